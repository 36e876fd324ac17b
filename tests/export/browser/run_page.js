// Drives one page in headless Debian Chromium through playwright-core and prints a JSON report.
//
//   node run_page.js steps.json
//
// steps.json: {"url": ..., "chromium": "/usr/bin/chromium", "timeout_ms": 60000,
//              "steps": [{"wait": "css selector"}, {"click": "css"}, {"eval": "js expression"},
//                        {"screenshot": "out.png", "selector": "css (optional)"}]}
// "eval" expressions may return promises; their values are collected in order. The report is
// {"results": [...], "console_errors": [...], "page_errors": [...], "failed_requests": [...],
//  "seconds": s}; a step that fails ends the run with {"error": message} added.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const started = Date.now();
  const report = {results: [], console_errors: [], page_errors: [], failed_requests: []};
  // A fresh, empty profile for every run; removed afterwards.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'musicvae-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: job.chromium || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run',
           '--autoplay-policy=no-user-gesture-required'],
    viewport: {width: 1100, height: 900},
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(job.timeout_ms || 60000);
    page.on('console', (msg) => {
      if (msg.type() === 'error') report.console_errors.push(msg.text());
    });
    page.on('pageerror', (error) => report.page_errors.push(String(error)));
    page.on('requestfailed', (request) => report.failed_requests.push(request.url()));
    await page.goto(job.url);
    for (const step of job.steps) {
      if (step.wait) {
        await page.waitForSelector(step.wait, {state: 'attached'});
      } else if (step.click) {
        await page.click(step.click);
      } else if (step.eval) {
        report.results.push(await page.evaluate(step.eval));
      } else if (step.screenshot) {
        const target = step.selector ? page.locator(step.selector) : page;
        await target.screenshot({path: step.screenshot});
      }
    }
  } catch (error) {
    report.error = String(error && error.message || error).split('\n')[0];
  } finally {
    await context.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
  report.seconds = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({error: String(error && error.message || error).split('\n')[0]}));
  process.exit(1);
});
