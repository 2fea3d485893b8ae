import mysql from 'mysql2/promise';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '../../src/random.js';

/**
 * A vtiger CRM 7 database on MariaDB, seeded deterministically with the dirt a CRM that has been in use for
 * years holds: deleted records and deleted links, contacts of deleted accounts, shared family emails and
 * malformed ones, phones in every format, zero dates, sales stages outside the picklist, probabilities over
 * 100 %, deals on an account or on a contact, comments on any kind of record. Then, on request, a day of changes
 * as users make them: new records, edits, a contact moved to another account, records deleted.
 *
 * The tables are vtiger's own (vtiger CRM 7.x, `schema/DatabaseSchema.xml`), with its column names, types and
 * utf8mb3 character set; of its wider tables only the columns a migration reads are created.
 */
export interface VtigerOptions {
  readonly accounts?: number;
  readonly seed?: number;
}

const TABLES = [
  `CREATE TABLE vtiger_users (id INT(11) NOT NULL, user_name VARCHAR(255), first_name VARCHAR(30), last_name VARCHAR(30), email1 VARCHAR(100),
     status VARCHAR(25), is_admin VARCHAR(3) DEFAULT '0', deleted INT(1) NOT NULL DEFAULT 0, PRIMARY KEY (id))`,
  `CREATE TABLE vtiger_crmentity (crmid INT(19) NOT NULL, smcreatorid INT(19) NOT NULL DEFAULT 0, smownerid INT(19) NOT NULL DEFAULT 0,
     modifiedby INT(19) NOT NULL DEFAULT 0, setype VARCHAR(100), description MEDIUMTEXT, createdtime DATETIME NOT NULL, modifiedtime DATETIME NOT NULL,
     viewedtime DATETIME, status VARCHAR(50), version INT(19) NOT NULL DEFAULT 0, presence INT(1) DEFAULT 1, deleted INT(1) NOT NULL DEFAULT 0,
     smgroupid INT(19), source VARCHAR(100), label VARCHAR(255), PRIMARY KEY (crmid), KEY crmentity_deleted_idx (deleted),
     KEY crm_ownerid_del_setype_idx (smownerid, deleted, setype))`,
  `CREATE TABLE vtiger_account (accountid INT(19) NOT NULL DEFAULT 0, account_no VARCHAR(100) NOT NULL, accountname VARCHAR(100) NOT NULL,
     parentid INT(19) DEFAULT 0, account_type VARCHAR(200), industry VARCHAR(200), annualrevenue DECIMAL(25,8), rating VARCHAR(200),
     ownership VARCHAR(50), siccode VARCHAR(50), tickersymbol VARCHAR(30), phone VARCHAR(30), otherphone VARCHAR(30), email1 VARCHAR(100),
     email2 VARCHAR(100), website VARCHAR(100), fax VARCHAR(30), employees INT(10) DEFAULT 0, emailoptout VARCHAR(3) DEFAULT '0',
     notify_owner VARCHAR(3) DEFAULT '0', isconvertedfromlead VARCHAR(3) DEFAULT '0', tags VARCHAR(1), PRIMARY KEY (accountid))`,
  `CREATE TABLE vtiger_accountbillads (accountaddressid INT(19) NOT NULL DEFAULT 0, bill_city VARCHAR(30), bill_code VARCHAR(30),
     bill_country VARCHAR(30), bill_state VARCHAR(30), bill_street VARCHAR(250), bill_pobox VARCHAR(30), PRIMARY KEY (accountaddressid))`,
  `CREATE TABLE vtiger_contactdetails (contactid INT(19) NOT NULL DEFAULT 0, contact_no VARCHAR(100) NOT NULL, accountid INT(19),
     salutation VARCHAR(200), firstname VARCHAR(40), lastname VARCHAR(80) NOT NULL, email VARCHAR(100), phone VARCHAR(50), mobile VARCHAR(50),
     title VARCHAR(50), department VARCHAR(30), fax VARCHAR(50), reportsto VARCHAR(30), training VARCHAR(50), usertype VARCHAR(50),
     contacttype VARCHAR(50), otheremail VARCHAR(100), secondaryemail VARCHAR(100), donotcall VARCHAR(3), emailoptout VARCHAR(3) DEFAULT '0',
     imagename VARCHAR(150), reference VARCHAR(3), notify_owner VARCHAR(3) DEFAULT '0', isconvertedfromlead VARCHAR(3) DEFAULT '0',
     tags VARCHAR(1), PRIMARY KEY (contactid), KEY contactdetails_accountid_idx (accountid))`,
  `CREATE TABLE vtiger_contactaddress (contactaddressid INT(19) NOT NULL DEFAULT 0, mailingcity VARCHAR(40), mailingstreet VARCHAR(250),
     mailingcountry VARCHAR(40), othercountry VARCHAR(30), mailingstate VARCHAR(30), mailingpobox VARCHAR(30), othercity VARCHAR(40),
     otherstate VARCHAR(50), mailingzip VARCHAR(30), otherzip VARCHAR(30), otherstreet VARCHAR(250), otherpobox VARCHAR(30),
     PRIMARY KEY (contactaddressid))`,
  `CREATE TABLE vtiger_potential (potentialid INT(19) NOT NULL DEFAULT 0, potential_no VARCHAR(100) NOT NULL, related_to INT(19),
     potentialname VARCHAR(120) NOT NULL, amount DECIMAL(25,8) DEFAULT 0, currency_id INT(19) NOT NULL DEFAULT 1, closingdate DATE,
     typeofrevenue VARCHAR(50), nextstep VARCHAR(100), private INT(1) DEFAULT 0, probability DECIMAL(7,3) DEFAULT 0, campaignid INT(19),
     sales_stage VARCHAR(200), potentialtype VARCHAR(200), leadsource VARCHAR(200), productid INT(50), dbname VARCHAR(50),
     forecast_amount DECIMAL(25,4), isconvertedfromlead VARCHAR(3) DEFAULT '0', contact_id INT(19), tags VARCHAR(1), PRIMARY KEY (potentialid))`,
  `CREATE TABLE vtiger_modcomments (modcommentsid INT(11) NOT NULL, commentcontent TEXT, related_to INT(19), parent_comments INT(19),
     customer VARCHAR(100), userid INT(19), reasontoedit VARCHAR(100), is_private INT(1) DEFAULT 0, filename VARCHAR(255),
     related_email_id INT(11), PRIMARY KEY (modcommentsid))`,
];

/** vtiger's users; the first four were invited into Odoo before the migration (their login is their email). */
const USERS: [number, string, string, string, string][] = [
  [1, 'admin', 'Ann', 'Lee', 'ann.lee@example.com'],
  [5, 'rpatel', 'Raj', 'Patel', 'raj.patel@example.com'],
  [6, 'enovak', 'Eva', 'Novak', 'eva.novak@example.com'],
  [7, 'tberg', 'Tom', 'Berg', 'tom.berg@example.com'],
  [8, 'mgone', 'Max', 'Gone', 'max.gone@example.com'],
];
const FIRST = [
  'José',
  'Mary',
  'Wei',
  'Søren',
  'Aisha',
  'Jean-Luc',
  'Priya',
  'Zoë',
  'John',
  'Anna',
  'Olusegun',
  'María José',
  'Chloé',
  'Mark',
];
const LAST = [
  'Müller',
  'Smith',
  'Nguyen',
  'Østergaard',
  "O'Brien",
  'da Silva',
  'Kowalski',
  'Zhang',
  'van der Berg',
  'García',
  'Lee',
  'Novak',
];
const COMPANY = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Hooli',
  'Vandelay',
  'Soylent',
  'Tyrell',
  'Cyberdyne',
  'Wonka',
];
const SUFFIX = ['Ltd', 'GmbH', 'Inc.', 'S.A.', 'AB', 'LLC', 'Oy', 'BV'];
const DOMAINS = ['gmail.com', 'yahoo.co.uk', 'outlook.com', 'web.de', 'orange.fr', 'hotmail.com', 'proton.me'];
/** vtiger's sales stages, and two that users typed into an imported list. */
const STAGES = [
  'Prospecting',
  'Qualification',
  'Needs Analysis',
  'Value Proposition',
  'Id. Decision Makers',
  'Perception Analysis',
  'Proposal/Price Quote',
  'Negotiation/Review',
  'Closed Won',
  'Closed Lost',
];
const STRAY_STAGES = ['Closed-Won', 'Negotiaton'];

type Db = mysql.Connection;

interface World {
  readonly db: Db;
  readonly rnd: () => number;
  next: number;
  clock: number;
}

const pick = <T>(w: World, list: readonly T[]): T => list[Math.floor(w.rnd() * list.length)];
const chance = (w: World, p: number) => w.rnd() < p;
const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function phone(w: World): string | null {
  const n = () => String(Math.floor(w.rnd() * 9000) + 1000);
  const area = pick(w, ['212', '415', '312', '617', '206']);
  const r = w.rnd();
  if (r < 0.3) return `(${area}) 555-${n()}`;
  if (r < 0.45) return `${area}.555.${n()}`;
  if (r < 0.55) return `+1 ${area} 555 ${n()}`;
  if (r < 0.65) return `+44 20 7946 ${n().slice(0, 4)}`;
  if (r < 0.72) return `+49 30 ${n()}${n()}`;
  if (r < 0.77) return `${area}-555-${n()} ext. 12`;
  if (r < 0.8) return `555-${n()}`;
  if (r < 0.82) return '（２１２）５５５－０１４２';
  if (r < 0.9) return '';
  return null;
}

function email(w: World, first: string, last: string): string | null {
  const local = `${first}.${last}`
    .toLowerCase()
    .normalize('NFD')
    .replace(/[^a-z.]/g, '');
  const address = `${local}@${pick(w, DOMAINS)}`;
  const r = w.rnd();
  if (r < 0.65) return address;
  if (r < 0.72) return address.toUpperCase();
  if (r < 0.76) return ` ${address} `;
  if (r < 0.79) return `${first} ${last} <${address}>`;
  if (r < 0.81) return address.replace('@', '@@');
  if (r < 0.83) return 'n/a';
  if (r < 0.85) return `${local}@`;
  return r < 0.95 ? address : null;
}

/** A record of vtiger: its crmentity row, then its details. Each save moves modifiedtime on, as vtiger does. */
async function entity(w: World, setype: string, label: string, deleted = false): Promise<number> {
  const id = w.next++;
  w.clock += 60_000 + Math.floor(w.rnd() * 600_000);
  const owner = pick(w, USERS)[0];
  await w.db.query(
    'INSERT INTO vtiger_crmentity (crmid, smcreatorid, smownerid, modifiedby, setype, description, createdtime, modifiedtime, deleted, label) VALUES (?,?,?,?,?,?,?,?,?,?)',
    [
      id,
      owner,
      owner,
      owner,
      setype,
      chance(w, 0.2) ? `Imported from the ${setype.toLowerCase()} list` : null,
      stamp(w.clock),
      stamp(w.clock),
      deleted ? 1 : 0,
      label,
    ],
  );
  return id;
}

async function account(w: World): Promise<number> {
  const name = `${pick(w, COMPANY)} ${pick(w, ['', 'Nordic ', 'Global ', 'Digital '])}${pick(w, SUFFIX)}`.replace(
    /\s+/g,
    ' ',
  );
  const id = await entity(w, 'Accounts', name, chance(w, 0.06));
  const site = `${name.split(' ')[0]?.toLowerCase()}-${id}.com`;
  await w.db.query(
    'INSERT INTO vtiger_account (accountid, account_no, accountname, phone, email1, website, industry, employees) VALUES (?,?,?,?,?,?,?,?)',
    [
      id,
      `ACC${id}`,
      chance(w, 0.05) ? `  ${name.toUpperCase()} ` : name,
      phone(w),
      chance(w, 0.6) ? `info@${site}` : null,
      chance(w, 0.5) ? `www.${site}` : `https://${site}/`,
      pick(w, ['Banking', 'Retail', 'Technology', null]),
      Math.floor(w.rnd() * 500),
    ],
  );
  await w.db.query(
    'INSERT INTO vtiger_accountbillads (accountaddressid, bill_street, bill_city, bill_code, bill_country) VALUES (?,?,?,?,?)',
    [
      id,
      `${Math.floor(w.rnd() * 200) + 1} ${pick(w, ['Main St', 'Rue de Rivoli', 'Hauptstraße', 'Baker Street'])}`,
      pick(w, ['Springfield', 'Paris', 'Berlin', 'London']),
      String(Math.floor(w.rnd() * 90000) + 10000),
      pick(w, ['USA', 'France', 'Germany', 'UK', '']),
    ],
  );
  return id;
}

async function contact(
  w: World,
  accounts: readonly number[],
  family?: { last: string; email: string | null },
): Promise<number> {
  const first = pick(w, FIRST);
  const last = family?.last ?? pick(w, LAST);
  const id = await entity(w, 'Contacts', `${first} ${last}`, chance(w, 0.06));
  // Most work for an account (some of them deleted since); some for none: vtiger stores 0 or NULL then.
  const accountid = chance(w, 0.85) ? pick(w, accounts) : chance(w, 0.5) ? 0 : null;
  const lastname = chance(w, 0.06) ? last.toUpperCase() : last;
  await w.db.query(
    'INSERT INTO vtiger_contactdetails (contactid, contact_no, accountid, salutation, firstname, lastname, email, phone, mobile, title, secondaryemail) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    [
      id,
      `CON${id}`,
      accountid,
      pick(w, ['Mr.', 'Ms.', 'Dr.', '--None--', null]),
      chance(w, 0.03) ? null : first,
      lastname,
      family ? family.email : email(w, first, last),
      phone(w),
      phone(w),
      pick(w, ['CEO', 'Buyer', 'IT Manager', null]),
      chance(w, 0.1) ? email(w, first, last) : null,
    ],
  );
  await w.db.query(
    'INSERT INTO vtiger_contactaddress (contactaddressid, mailingstreet, mailingcity, mailingzip, mailingcountry) VALUES (?,?,?,?,?)',
    [
      id,
      chance(w, 0.8) ? `${Math.floor(w.rnd() * 90) + 1} Elm Street` : '',
      pick(w, ['Austin', 'Lyon', 'München', 'Oslo']),
      String(Math.floor(w.rnd() * 90000) + 10000),
      pick(w, ['United States', 'FR', 'Deutschland', 'Norway', '']),
    ],
  );
  return id;
}

async function deal(w: World, accounts: readonly number[], contacts: readonly number[]): Promise<number> {
  const name =
    `${pick(w, ['Renewal', 'Upgrade', 'New licences', 'Pilot', 'Support'])} ${pick(w, ['Q1', 'Q2', '2026', 'EMEA', ''])}`.trim();
  const id = await entity(w, 'Potentials', name, chance(w, 0.06));
  // A deal is on an account or on a contact (related_to), and may name its contact person (contact_id).
  const onContact = chance(w, 0.3);
  const stage = chance(w, 0.04) ? pick(w, STRAY_STAGES) : pick(w, STAGES);
  await w.db.query(
    'INSERT INTO vtiger_potential (potentialid, potential_no, related_to, potentialname, amount, closingdate, probability, sales_stage, contact_id) VALUES (?,?,?,?,?,?,?,?,?)',
    [
      id,
      `POT${id}`,
      onContact ? pick(w, contacts) : pick(w, accounts),
      name,
      Math.round(w.rnd() * 5_000_000) / 100,
      chance(w, 0.05) ? '0000-00-00' : `2026-${String(1 + Math.floor(w.rnd() * 12)).padStart(2, '0')}-15`,
      chance(w, 0.02) ? 150 : Math.floor(w.rnd() * 101),
      stage,
      chance(w, 0.6) ? pick(w, contacts) : null,
    ],
  );
  return id;
}

async function comment(w: World, parents: readonly number[]): Promise<number> {
  const id = await entity(w, 'ModComments', 'comment', chance(w, 0.04));
  const text = pick(w, [
    'Called, no answer.',
    'Sent the quote & the terms <draft>.',
    'Wants a demo next week.\nFollow up on Monday.',
    'Price too high — revisit in Q3.',
  ]);
  await w.db.query(
    'INSERT INTO vtiger_modcomments (modcommentsid, commentcontent, related_to, userid) VALUES (?,?,?,?)',
    [id, text, pick(w, parents), pick(w, USERS)[0]],
  );
  return id;
}

async function connect(url: string): Promise<Db> {
  const db = await mysql.createConnection({ uri: url, charset: 'utf8mb4' });
  // vtiger runs with a permissive sql_mode: zero dates are stored as they are.
  await db.query("SET SESSION sql_mode = ''");
  return db;
}

/** Creates vtiger's tables in the (empty) database at `url` and fills them; returns how many records it made. */
export async function seedVtiger(url: string, options: VtigerOptions = {}): Promise<number> {
  const db = await connect(url);
  try {
    for (const sql of TABLES) await db.query(`${sql} ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`);
    for (const [id, user, first, last, mail] of USERS)
      await db.query(
        'INSERT INTO vtiger_users (id, user_name, first_name, last_name, email1, status) VALUES (?,?,?,?,?,?)',
        [id, user, first, last, mail, id === 8 ? 'Inactive' : 'Active'],
      );
    const w: World = { db, rnd: seededRandom(options.seed ?? 7), next: 1000, clock: Date.UTC(2019, 0, 7) };
    const accounts: number[] = [];
    for (let i = 0; i < (options.accounts ?? 120); i++) accounts.push(await account(w));
    const contacts: number[] = [];
    for (let i = 0; i < accounts.length * 4; i++) {
      const id = await contact(w, accounts);
      contacts.push(id);
      // A family shares one address: same last name, same email, another person.
      if (chance(w, 0.05))
        contacts.push(await contact(w, accounts, { last: pick(w, LAST), email: `family.${id}@${pick(w, DOMAINS)}` }));
    }
    const deals: number[] = [];
    for (let i = 0; i < accounts.length * 2; i++) deals.push(await deal(w, accounts, contacts));
    // Comments on accounts, contacts and deals, and on trouble tickets (HelpDesk), which are not migrated.
    const tickets: number[] = [];
    for (let i = 0; i < 10; i++) tickets.push(await entity(w, 'HelpDesk', 'ticket'));
    for (let i = 0; i < accounts.length * 5; i++)
      await comment(w, chance(w, 0.03) ? tickets : pick(w, [accounts, contacts, deals]));
    return w.next - 1000;
  } finally {
    await db.end();
  }
}

/**
 * A day of work in vtiger after the full load: new records, edited ones (each save moves modifiedtime on), a
 * contact moved to another account, contacts and comments deleted (their `deleted` flag set, as vtiger does).
 * Deleted contacts are ones nothing refers to: a migration does not cascade a delete to the records that refer
 * to it (see the README).
 */
export async function dayOfChanges(url: string, options: { seed?: number } = {}): Promise<void> {
  const db = await connect(url);
  try {
    const [[top]] = (await db.query(
      'SELECT MAX(crmid) AS id, UNIX_TIMESTAMP(MAX(modifiedtime)) AS t FROM vtiger_crmentity',
    )) as unknown as [{ id: number; t: number }[]];
    const w: World = {
      db,
      rnd: seededRandom(options.seed ?? 8),
      next: Number(top?.id) + 1,
      clock: Number(top?.t) * 1000 + 3_600_000,
    };
    const ids = async (sql: string) =>
      ((await db.query(sql)) as unknown as [{ id: number }[]])[0].map((r) => Number(r.id));
    const accounts = await ids(
      "SELECT crmid AS id FROM vtiger_crmentity WHERE setype = 'Accounts' AND deleted = 0 ORDER BY crmid",
    );
    const contacts = await ids(
      "SELECT crmid AS id FROM vtiger_crmentity WHERE setype = 'Contacts' AND deleted = 0 ORDER BY crmid",
    );
    const touch = async (id: number) => {
      w.clock += 60_000;
      await db.query('UPDATE vtiger_crmentity SET modifiedtime = ?, modifiedby = 5 WHERE crmid = ?', [
        stamp(w.clock),
        id,
      ]);
    };
    for (let i = 0; i < 3; i++) accounts.push(await account(w));
    for (let i = 0; i < 12; i++) contacts.push(await contact(w, accounts));
    for (let i = 0; i < 6; i++) await deal(w, accounts, contacts);
    for (let i = 0; i < 15; i++) await comment(w, contacts);
    // New emails, some of them of a deal's contact person: the deal shows it, and re-syncs through its joined cursor.
    for (const id of contacts.slice(0, 60).filter((_c, i) => i % 4 === 0)) {
      await db.query(
        "UPDATE vtiger_contactdetails SET email = CONCAT('new.', contactid, '@example.org') WHERE contactid = ?",
        [id],
      );
      await touch(id);
    }
    // Moved to another account.
    for (const id of contacts.slice(40, 70).filter((_, i) => i % 5 === 0)) {
      await db.query('UPDATE vtiger_contactdetails SET accountid = ? WHERE contactid = ?', [pick(w, accounts), id]);
      await touch(id);
    }
    const stages = await ids(
      "SELECT crmid AS id FROM vtiger_crmentity WHERE setype = 'Potentials' AND deleted = 0 ORDER BY crmid LIMIT 5",
    );
    for (const id of stages) {
      await db.query(
        "UPDATE vtiger_potential SET sales_stage = 'Closed Won', probability = 100 WHERE potentialid = ?",
        [id],
      );
      await touch(id);
    }
    const unreferenced =
      await ids(`SELECT e.crmid AS id FROM vtiger_crmentity e WHERE e.setype = 'Contacts' AND e.deleted = 0 AND e.crmid <= ${Number(top?.id)}
      AND NOT EXISTS (SELECT 1 FROM vtiger_potential p WHERE p.related_to = e.crmid OR p.contact_id = e.crmid)
      AND NOT EXISTS (SELECT 1 FROM vtiger_modcomments m WHERE m.related_to = e.crmid) ORDER BY e.crmid DESC LIMIT 4`);
    const comments = await ids(
      "SELECT crmid AS id FROM vtiger_crmentity WHERE setype = 'ModComments' AND deleted = 0 ORDER BY crmid LIMIT 3",
    );
    for (const id of [...unreferenced, ...comments]) {
      await db.query('UPDATE vtiger_crmentity SET deleted = 1 WHERE crmid = ?', [id]);
      await touch(id);
    }
  } finally {
    await db.end();
  }
}

// node dist/examples/vtiger-to-odoo/generate.js mysql://user@host/vtiger [--changes]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url, flag] = process.argv.slice(2);
  if (!url) {
    console.error('usage: generate.js MYSQL_URL [--changes]');
    process.exitCode = 2;
  } else if (flag === '--changes') {
    await dayOfChanges(url);
    console.log('made a day of changes in vtiger');
  } else {
    console.log(`seeded vtiger with ${(await seedVtiger(url)).toLocaleString('en-US')} records`);
  }
}
