// A jest reporter: at the end of the run, one list of every skipped suite and
// test with its reason, so that no skip is silent in a multi-file run (jest
// drops the console output of suites that skip). The reason is the
// "[skipped: reason]" of titles made by test/helpers/skip.ts, or a title's
// "(needs ...)" / "not-run: ..." part; a skip with neither says so.
'use strict';
const path = require('node:path');

const TAGGED = /\s*\[skipped: ([^\]]*)\]/;
const NEEDS = /\((needs [^)]*)\)/;
const NOT_RUN = /(not-run: .*)$/;

/** The reason of one skipped test from its titles (suite titles first). */
function reasonOf(titles, status) {
  for (const s of titles) {
    const m = TAGGED.exec(s) || NOT_RUN.exec(s) || NEEDS.exec(s);
    if (m) return m[1];
  }
  return status === 'todo' ? 'todo' : 'no reason given';
}

/** Lines listing the skips of a run's results, grouped by file and reason. */
function summarise(rootDir, results) {
  const lines = [];
  let count = 0;
  for (const file of results.testResults) {
    const rel = path.relative(rootDir, file.testFilePath);
    const groups = new Map();
    for (const t of file.testResults) {
      if (t.status !== 'pending' && t.status !== 'skipped' && t.status !== 'todo') continue;
      const titles = [...t.ancestorTitles, t.title];
      const reason = reasonOf(titles, t.status);
      const name = titles.map((s) => s.replace(TAGGED, '')).join(' > ');
      if (!groups.has(reason)) groups.set(reason, []);
      groups.get(reason).push(name);
      count++;
    }
    for (const [reason, names] of groups) {
      lines.push(`  ${rel}: ${names.length} skipped: ${reason}`);
      for (const n of names.slice(0, 5)) lines.push(`      ${n}`);
      if (names.length > 5) lines.push(`      ... and ${names.length - 5} more`);
    }
  }
  return count ? [`Skipped (${count} tests):`, ...lines] : ['Skipped: none'];
}

class SkipReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.filtered = !!globalConfig.testNamePattern;
  }

  onRunComplete(_contexts, results) {
    const lines = summarise(this.rootDir, results);
    // jest reports the tests a -t filter leaves out as skipped too.
    if (this.filtered) lines.push('  (a -t name filter is set: the tests it left out are listed as skipped)');
    process.stderr.write(`\n${lines.join('\n')}\n`);
  }
}

module.exports = SkipReporter;
module.exports.summarise = summarise;
