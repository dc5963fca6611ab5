// browser_test.mjs URL SCREENSHOT.png — ./alexnet serve's page in headless
// Chromium, driven by playwright-core (scripts/browser_test.sh installs it):
// t10k image 0 loaded through the page's own "random test image" path must
// read 7; a drawn vertical stroke must read 1; and a short training run
// started from the page must put points on the curve and change conv1's
// filters before it is stopped. The screenshot is taken mid-run.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"],
});
const fail = message => { console.error("browser test: " + message); process.exitCode = 1; };
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1500 } });
  const body = name => page.evaluate(key => document.body.dataset[key], name);

  await page.goto(url + "?selftest=test0");
  await page.waitForSelector("body[data-digit]", { timeout: 30000 });
  console.log(`test image 0: digit ${await body("digit")}, label ${await body("label")}`);
  if (await body("digit") !== "7" || await body("label") !== "7") fail("expected digit 7 for test image 0");

  await page.goto(url + "?selftest=draw");
  await page.waitForSelector("body[data-digit]", { timeout: 30000 });
  console.log(`drawn stroke: digit ${await body("digit")}`);
  if (await body("digit") !== "1") fail("expected digit 1 for a vertical stroke");

  await page.goto(url + "?selftest=train");
  await page.waitForSelector("body[data-train-seen]", { timeout: 120000 });
  await page.screenshot({ path: screenshot, fullPage: false });
  await page.evaluate(() => { document.body.dataset.shot = "taken"; });
  await page.waitForFunction(() => ["stopped", "finished"].includes(document.body.dataset.trainState), null,
                             { timeout: 120000 });
  const points = Number(await body("trainPoints")), updates = Number(await body("filterUpdates"));
  console.log(`training from the page: ${points} points on the curve, conv1's filters redrawn ${updates} times, ` +
              `run ${await body("trainState")}`);
  if (points < 10) fail("fewer than 10 points on the loss curve");
  if (updates < 3) fail("conv1's filters changed fewer than 3 times");
} finally {
  await browser.close();
}
