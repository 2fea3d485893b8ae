import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { captureIo } from './helpers/io.js';
import { tempDir } from './helpers/databases.js';

// The HTML report of a real run, opened in a real browser (Debian's Chromium, driven by playwright-core):
// the accounting is there, the chart is drawn, and no customer value is on the page unless asked for.

const CHROMIUM = process.env.CRM_MIGRATE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '../test-artifacts');
const ROWS = 20_000;

const PLAN = `version: 1
name: report-test
source: sqlite:./old.db
target: sqlite:./new.db
batch_size: 500
entities:
  customers:
    from: customers
    into: people
    key: id
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email: { from: email, clean: email }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
    dedupe:
      on: [email, first_name, last_name]
`;

const customer = (i: number) => ({
  name: `Zebediah${i} Quackenbush${i}`,
  email: i % 50 === 0 ? `broken${i}.at.example.com` : `zeb${i}@quackmail.example.com`,
  phone: `(415) 555-${String(1000 + (i % 9000)).padStart(4, '0')}`,
});

const capture = captureIo;

describe('the HTML run report in Chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let browser: Browser;

  beforeAll(async () => {
    // Never a skip: without the browser this test fails and says how to get it.
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CRM_MIGRATE_CHROMIUM)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    tmp = tempDir();
    writeFileSync(path.join(tmp.dir, 'plan.yaml'), PLAN);
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT)');
    const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= ROWS; i++) {
        const c = customer(i);
        insert.run(i, c.name, c.email, c.phone);
      }
    })();
    db.close();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    tmp?.remove();
  });

  it('shows the accounting and the throughput chart, and no customer value', async () => {
    const io = capture();
    const report = path.join(tmp.dir, 'report.html');
    expect(await main(['run', path.join(tmp.dir, 'plan.yaml'), '--quiet', '--report', report], io)).toBe(0);
    expect(io.stderr.join('\n')).toContain('report: ');
    const page = await browser.newPage();
    await page.goto(`file://${report}`);
    const count = (name: string) => page.locator(`[data-section="accounting"] [data-count="${name}"]`).innerText();
    expect(await count('read')).toBe('20,000');
    expect(await count('written')).toBe('19,600');
    expect(await count('quarantined')).toBe('400');
    expect(await page.locator('[data-section="reasons"]').innerText()).toMatch(
      /customers\s+email\s+email\s+invalid_email\s+400\s+50, 100, 150, 200, 250/,
    );
    // Every customer is a different person, and every name sounds alike once its digits are gone: the one
    // block the name rule makes is over max_block, so it is skipped, and the report says so.
    expect(await page.locator('[data-section="dedupe"]').innerText()).toMatch(
      /customers\s+19,600\s+0\s+0\s+0\s+0\s+1\s/,
    );
    expect(await page.locator('[data-warning]').innerText()).toBe(
      'customers: no pair of records was compared: the only blocks were over max_block (1 skipped); add a field to the blocking rules',
    );
    const points = await page
      .locator('svg[data-chart="throughput"] polyline[data-series="customers"]')
      .getAttribute('points');
    expect(points?.trim().split(/\s+/).length).toBeGreaterThan(5);
    const box = await page.locator('svg[data-chart="throughput"]').boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'run-report.png'), fullPage: true });

    // Neither the page as rendered nor the file holds any customer's name, email or phone.
    const text = await page.locator('body').innerText();
    const html = readFileSync(report, 'utf8');
    for (const i of [1, 50, 777, 19_999]) {
      const c = customer(i);
      for (const value of [
        c.name,
        c.email,
        c.phone,
        `Zebediah${i}`,
        `Quackenbush${i}`,
        `+1415555${String(1000 + (i % 9000)).padStart(4, '0')}`,
      ]) {
        expect(text).not.toContain(value);
        expect(html).not.toContain(value);
      }
    }
    await page.close();
  }, 60_000);

  it('shows a few quarantined rows with their values when asked', async () => {
    const report = path.join(tmp.dir, 'with-values.html');
    expect(
      await main(
        ['run', path.join(tmp.dir, 'plan.yaml'), '--quiet', '--fresh', '--show-values', '--report', report],
        capture(),
      ),
    ).toBe(0);
    const page = await browser.newPage();
    await page.goto(`file://${report}`);
    expect(await page.locator('[data-section="samples"]').innerText()).toContain(customer(100).email);
    await page.close();
  }, 60_000);
});
