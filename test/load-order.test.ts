import { describe, expect, it } from 'vitest';
import { loadOrder } from '../src/plan/load-order.js';
import { parsePlan } from '../src/plan/load.js';

// The order entities load in: what a record refers to loads first. Pure: no database.
const plan = (entities: string) =>
  parsePlan(
    `version: 1\nname: order\nsource: "sqlite::memory:"\ntarget: "sqlite::memory:"\nentities:\n${entities}`,
    'plan.yaml',
  );
const entity = (name: string, fields: string, extra = '') =>
  `  ${name}:\n    from: ${name}\n    into: ${name === 'shop' ? 'people' : name}\n    key: id\n${extra}    fields:\n      id: { new_id: uuid }\n      name: name\n${fields}`;

describe('load order', () => {
  it('loads referenced entities first, keeping the plan order where refs allow', () => {
    const order = loadOrder(
      plan(
        entity('deals', '      contact_id: { from: contact_id, ref: contacts }\n') +
          entity('contacts', '      company_id: { from: company_id, ref: companies }\n') +
          entity('companies', '') +
          entity('notes', ''),
      ),
    );
    expect(order.order.map((e) => e.name)).toEqual(['companies', 'contacts', 'deals', 'notes']);
    expect(order.deferred).toEqual([]);
  });

  it('loads what any member of a dedupe group refers to before the group, which is matched when its first member loads', () => {
    // people is declared first and refers to nothing; shop, linked with it, refers to regions, declared last.
    const dedupe = '    dedupe: { on: [name], with: [shop] }\n';
    const order = loadOrder(
      plan(
        entity('people', '', dedupe) +
          entity(
            'shop',
            '      region_id: { from: region_id, ref: regions }\n      referrer: { from: referrer, ref: people }\n',
          ) +
          entity('regions', ''),
      ),
    );
    expect(order.order.map((e) => e.name)).toEqual(['regions', 'people', 'shop']);
  });
});
