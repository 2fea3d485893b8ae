import { describe, expect, it } from 'vitest';
import { parsePersonName } from '../src/mapping/person-name.js';

// [input, honorific, first, middle, last, suffix, nickname]; '' is null.
const CASES: [string | null, string, string, string, string, string, string?][] = [
  ['John Smith', '', 'John', '', 'Smith', ''],
  ['Scott, Michael C.', '', 'Michael', 'C.', 'Scott', ''],
  ['Scott, Michael', '', 'Michael', '', 'Scott', ''],
  ['SMITH, JOHN A', '', 'JOHN', 'A', 'SMITH', ''],
  ['Dr. Jane Doe', 'Dr.', 'Jane', '', 'Doe', ''],
  ['Mrs. Mary Ann Jones', 'Mrs.', 'Mary', 'Ann', 'Jones', ''],
  ['Prof. Dr. Hans Müller', 'Prof. Dr.', 'Hans', '', 'Müller', ''],
  ['DR JANE DOE', 'DR', 'JANE', '', 'DOE', ''],
  ['mr john smith', 'mr', 'john', '', 'smith', ''],
  ['John Smith Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['John Smith, Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['John Smith III', '', 'John', '', 'Smith', 'III'],
  ['Jane Doe, PhD', '', 'Jane', '', 'Doe', 'PhD'],
  ['John Smith Jr., PhD', '', 'John', '', 'Smith', 'Jr. PhD'],
  ['Smith Jr., John', '', 'John', '', 'Smith', 'Jr.'],
  ['Smith, John, Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['Smith, John Jr.', '', 'John', '', 'Smith', 'Jr.'],
  ['Smith, Dr. John', 'Dr.', 'John', '', 'Smith', ''],
  ['Dr. Martin Luther King Jr.', 'Dr.', 'Martin', 'Luther', 'King', 'Jr.'],
  ['Ludwig van Beethoven', '', 'Ludwig', '', 'van Beethoven', ''],
  ['Jan van der Berg', '', 'Jan', '', 'van der Berg', ''],
  ['Juan de la Cruz', '', 'Juan', '', 'de la Cruz', ''],
  ['van der Berg, Jan', '', 'Jan', '', 'van der Berg', ''],
  ['Mary St. Clair', '', 'Mary', '', 'St. Clair', ''],
  ['Leonardo da Vinci', '', 'Leonardo', '', 'da Vinci', ''],
  ['Van Morrison', '', 'Van', '', 'Morrison', ''],
  ['JAN VAN DER BERG', '', 'JAN', '', 'VAN DER BERG', ''],
  ["Conan O'Brien", '', 'Conan', '', "O'Brien", ''],
  ['Anna Smith-Jones', '', 'Anna', '', 'Smith-Jones', ''],
  ["Mary-Jane O'Neil-Watson", '', 'Mary-Jane', '', "O'Neil-Watson", ''],
  ['Madonna', '', '', '', 'Madonna', ''],
  ['Mr. Smith', 'Mr.', '', '', 'Smith', ''],
  ['Dr.', 'Dr.', '', '', '', ''],
  ['  John    Smith  ', '', 'John', '', 'Smith', ''],
  ['John\tSmith', '', 'John', '', 'Smith', ''],
  ['John\u00a0Smith', '', 'John', '', 'Smith', ''],
  ['José Álvarez Núñez', '', 'José', 'Álvarez', 'Núñez', ''],
  ['Zoë Østergaard', '', 'Zoë', '', 'Østergaard', ''],
  ['J. R. R. Tolkien', '', 'J.', 'R. R.', 'Tolkien', ''],
  ['William "Bill" Gates', '', 'William', '', 'Gates', '', 'Bill'],
  ['Robert (Bob) Jones', '', 'Robert', '', 'Jones', '', 'Bob'],
  ['George Herbert Walker Bush', '', 'George', 'Herbert Walker', 'Bush', ''],
  ['Sir Elton John', 'Sir', 'Elton', '', 'John', ''],
  ['Rev. Dr. Martin King', 'Rev. Dr.', 'Martin', '', 'King', ''],
  ['Thurston Howell V', '', 'Thurston', '', 'Howell', 'V'],
  ['Smith,John', '', 'John', '', 'Smith', ''],
  ['Smith ,  John', '', 'John', '', 'Smith', ''],
  ['', '', '', '', '', ''],
  ['   ', '', '', '', '', ''],
  [null, '', '', '', '', ''],
  ['Mohammed bin Rashid', '', 'Mohammed', '', 'bin Rashid', ''],
  ['Maria dos Santos', '', 'Maria', '', 'dos Santos', ''],
  ['John Jr.', '', 'John', '', 'Jr.', ''],
  // Credentials after a comma are not "Last, First": the name keeps its order.
  ['John Doe, CLU, CFP', '', 'John', '', 'Doe', 'CLU CFP'],
  ['John Smith, Ph. D.', '', 'John', '', 'Smith', 'Ph. D.'],
  ['Jane Roe, CPA', '', 'Jane', '', 'Roe', 'CPA'],
  ['Mary Major, MP', '', 'Mary', '', 'Major', 'MP'],
  ['Ann Lee, MBA, PMP', '', 'Ann', '', 'Lee', 'MBA PMP'],
  // Initials are initials, not the suffix Jr.
  ['Smith, J.R.', '', 'J.R.', '', 'Smith', ''],
  ['Smith, J. R.', '', 'J.', 'R.', 'Smith', ''],
  // Surnames that are also abbreviations of degrees stay surnames.
  ['Ma, Jack', '', 'Jack', '', 'Ma', ''],
  ['Do, Minh', '', 'Minh', '', 'Do', ''],
];

describe('parsePersonName', () => {
  it.each(CASES)('%j', (input, honorific, first, middle, last, suffix, nickname = '') => {
    const n = (s: string) => (s === '' ? null : s);
    expect(parsePersonName(input)).toEqual({
      honorific: n(honorific), first: n(first), middle: n(middle), last: n(last), suffix: n(suffix), nickname: n(nickname),
    });
  });

  it('has at least 40 ugly cases', () => expect(CASES.length).toBeGreaterThanOrEqual(40));

  it('never throws on junk', () => {
    for (const junk of [',,,', '"', '()', '""', '12345', 'a,b,c,d', '\u0000', ', Jr.', 'Jr.', '....', 42, {}, undefined]) {
      expect(() => parsePersonName(junk)).not.toThrow();
    }
  });
});
