import type {
  BatchState,
  Checkpoint,
  CrosswalkEntry,
  MergeEntry,
  QuarantinedRow,
  ReviewPair,
} from '../../connectors/contract.js';
import type { Row } from '../../values.js';
import type { MergeInfo } from '../dedupe/merge-plan.js';
import { crosswalkEntries } from '../relations/refs.js';
import type { BoundEntity } from '../schema-check.js';
import { EMPTY_DIGEST, type BatchContent } from './refused-rows.js';

/** The open batch's span in the source (see BatchSpan), mutable while the batch fills. */
interface Span {
  after: readonly unknown[] | null;
  read: number;
  written: number;
  digest: number;
}

/**
 * What one open batch of an entity's load records besides its rows, until it commits in their transaction:
 * the quarantined rows, the crosswalk lines of the rows written and of the rows merged, the merge-map lines,
 * the earlier quarantine entries it closes, the placeholders it realizes, the review pairs (with the first
 * batch only), and its span in the source, to write a refused batch again. `take` hands it all over and starts
 * the next batch empty.
 */
export class OpenBatch {
  span: Span;
  #quarantine: QuarantinedRow[] = [];
  #written: { sourceKey: string; values: Row }[] = [];
  #merged: MergeEntry[] = [];
  #repointed: CrosswalkEntry[] = [];
  #seen: string[] = [];
  #realized: string[] = [];
  #review: { plan: string; pairs: readonly ReviewPair[] } | undefined;

  constructor(
    private readonly options: {
      readonly planName: string;
      readonly entity: BoundEntity;
      /** Whether commits record state at all: not for a second pass, nor an entity with nothing to record. */
      readonly recordsState: boolean;
      /** An increment: each row written, merged, quarantined or filtered closes its earlier quarantine entry. */
      readonly closing: boolean;
      /** An increment of an entity that may have placeholders standing in for the rows it writes. */
      readonly realizing: boolean;
      readonly review: readonly ReviewPair[] | undefined;
      readonly after: readonly unknown[] | null;
    },
  ) {
    this.span = { after: options.after, read: 0, written: 0, digest: EMPTY_DIGEST };
    this.#review = options.review ? { plan: options.planName, pairs: options.review } : undefined;
  }

  /** A row handed to the writer. */
  wrote(sourceKey: string, values: Row): void {
    this.span.written += 1;
    if (this.options.closing) this.#seen.push(sourceKey);
    if (this.options.realizing) this.#realized.push(sourceKey);
    if (this.options.entity.recordsCrosswalk) this.#written.push({ sourceKey, values });
  }

  /** A row merged into its survivor: not written, and its key points at the survivor's record. */
  merged(sourceKey: string, lost: MergeInfo): void {
    const { planName, entity } = this.options;
    if (this.options.closing) this.#seen.push(sourceKey);
    this.#merged.push({
      plan: planName,
      entity: entity.plan.name,
      sourceKey,
      survivorEntity: lost.survivorEntity,
      survivorKey: lost.survivorKey,
      probability: lost.probability,
      why: lost.why,
    });
    if (entity.recordsCrosswalk)
      this.#repointed.push({ plan: planName, entity: entity.plan.name, sourceKey, newKey: lost.survivorTargetKey });
  }

  quarantined(entry: QuarantinedRow): void {
    if (this.options.closing) this.#seen.push(entry.sourceKey);
    this.#quarantine.push(entry);
  }

  /** Rows `where:` took out: gone from the load, so their earlier quarantine entries close too. */
  filtered(sourceKeys: readonly string[]): void {
    if (this.options.closing) this.#seen.push(...sourceKeys);
  }

  /** The batch's content for its commit, with this checkpoint; the next batch starts empty after `lastKey`. */
  take(checkpoint: Checkpoint, lastKey: readonly unknown[] | null): BatchContent {
    const batch = { span: this.span, quarantine: this.#quarantine, checkpoint, state: this.#state() };
    this.span = { after: lastKey, read: 0, written: 0, digest: EMPTY_DIGEST };
    this.#quarantine = [];
    return batch;
  }

  /** What the commit records besides rows, quarantine and checkpoint; every list starts empty again. */
  #state(): BatchState | undefined {
    const { planName, entity, closing, realizing } = this.options;
    const keysOf = (sourceKeys: string[]) =>
      sourceKeys.length > 0 ? { plan: planName, entity: entity.plan.name, sourceKeys } : undefined;
    const state = this.options.recordsState && {
      crosswalk: entity.recordsCrosswalk
        ? [...crosswalkEntries(planName, entity, this.#written), ...this.#repointed]
        : [],
      merges: this.#merged,
      review: this.#review,
      closedQuarantine: closing ? keysOf(this.#seen) : undefined,
      realized: realizing ? keysOf(this.#realized) : undefined,
    };
    this.#written = [];
    this.#merged = [];
    this.#repointed = [];
    this.#seen = [];
    this.#realized = [];
    this.#review = undefined;
    return state || undefined;
  }
}
