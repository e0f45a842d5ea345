// The chat example as one room over two processes (`chat --redis`), in a
// real browser: a tab on each process sees the other's messages and the
// room's online count; Redis is killed and started again mid-test, and both
// tabs show the room degraded, then recovered, while a message sent during
// the outage reaches the other process's tab once Redis is back (the
// module docs of examples/chat/cluster.rs: delivered late, never lost
// silently); a process that crashes drops out of the other's count.
//
// Run through scripts/chat-cluster.sh, which installs what this needs
// (redis-server, Chromium, playwright-core) and builds the server. This
// test starts and stops every process itself, all on 127.0.0.1: one
// redis-server on a free port with no persistence and its own directory,
// and two chat processes. Settings (environment):
//   CHAT_BIN      the chat binary (default target/debug/examples/chat)
//   REDIS_SERVER  redis-server (default: redis-server on the PATH)
//   CLUSTER_DIR   a directory for Redis's files and the pid list (default
//                 a fresh one under the system's temp directory)
//   CHROMIUM      the browser (default /usr/bin/chromium)
//   CLUSTER_SCREENSHOT  where to save a screenshot of a tab while the room
//                 is degraded (default target/browser-test/chat-degraded.png)
//   VERBOSE=1     print the servers' logs as they run
//
// Every wait is bounded; the whole run gives up after TOTAL_TIMEOUT. The last
// line is "N passed, N failed[, N skipped]"; the exit status is 0 only when
// every check passed.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import {
  assert,
  bounded,
  check as checkWithin,
  results,
  sleep,
  summary,
} from "./report.mjs";
import { freePort, killNow, spawnReady } from "./process.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.CHAT_BIN || path.join(root, "target/debug/examples/chat");
const REDIS_SERVER = process.env.REDIS_SERVER || "redis-server";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const DIR = process.env.CLUSTER_DIR || fs.mkdtempSync(path.join(os.tmpdir(), "chat-cluster-"));
const SCREENSHOT =
  process.env.CLUSTER_SCREENSHOT || path.join(root, "target/browser-test/chat-degraded.png");
const VERBOSE = process.env.VERBOSE === "1";

const STEP_TIMEOUT = 30_000; // one check, waits included
const WAIT = 10_000; // one wait for the page
const RECOVER_WAIT = 20_000; // reconnecting to Redis: backoff at most 5 s, jittered
const GONE_WAIT = 28_000; // a crashed process drops out after 15-20 s of silence
const TOTAL_TIMEOUT = 300_000; // the whole run

// ---------------------------------------------------------------------------
// Reporting (report.mjs): after the first failure the rest are skipped;
// each check is bounded by this file's step timeout.
const check = (name, fn) => checkWithin(name, fn, STEP_TIMEOUT);

// ---------------------------------------------------------------------------
// The processes: each a child bound to 127.0.0.1, its pid written to
// DIR/pids so that the script's trap can end it should this runner die.

const logs = { redis: [], a: [], b: [] };
const children = new Map(); // label -> child

function recordPids() {
  const pids = [...children.values()].map((child) => child.pid).filter(Boolean);
  fs.writeFileSync(path.join(DIR, "pids"), pids.join("\n") + "\n");
}

/** Spawns `label` and resolves once a line of its output matches `ready`. */
function startProcess(label, command, args, ready) {
  return spawnReady({
    label,
    command,
    args,
    ready,
    log: logs[label],
    wait: WAIT,
    verbose: VERBOSE,
    onSpawn: (child) => {
      children.set(label, child);
      recordPids();
    },
  });
}

/** Waits until a new line of `label`'s log matches `pattern`. */
async function logged(label, pattern, from, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (logs[label].slice(from).some((line) => pattern.test(line))) return;
    if (Date.now() > deadline) throw new Error(`${label} never logged ${pattern}`);
    await sleep(50);
  }
}

/** Kills `label` at once, as a crash would, and waits for it to be gone. */
async function kill(label) {
  const child = children.get(label);
  children.delete(label);
  recordPids();
  await killNow(child, WAIT, label);
}

/** redis-server on `port`: loopback only, nothing saved, files in DIR. */
async function startRedis(port) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    try {
      // prettier-ignore
      return await startProcess("redis", REDIS_SERVER, [
        "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "yes",
        "--save", "", "--appendonly", "no", "--dir", DIR, "--daemonize", "no",
        "--logfile", "",
      ], /Ready to accept connections/);
    } catch (error) {
      // The port may linger a moment after a kill.
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

const startChat = (label, port, redisPort) =>
  startProcess(
    label,
    BIN,
    [`127.0.0.1:${port}`, "--redis", `redis://127.0.0.1:${redisPort}/`],
    /^chat listening on/,
  );

// ---------------------------------------------------------------------------
// The page (helpers as in chat.mjs).

const pageErrors = [];

async function openTab(browser, label, url) {
  const context = await browser.newContext({ viewport: { width: 720, height: 460 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("pageerror", (error) => pageErrors.push(`${label}: ${error.message}`));
  await page.goto(url, { timeout: WAIT });
  return page;
}

const state = (page, value, timeout = WAIT) =>
  page.locator(`#status[data-state="${value}"]`).waitFor({ timeout });

async function join(page, name) {
  await page.fill("#name", name);
  await page.press("#name", "Enter");
  await page.locator("#messages .notice", { hasText: `You joined as ${name}.` }).last().waitFor();
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** Waits until `page` shows a chat message from `name` whose text is exactly `text`. */
function shows(page, name, text, timeout = WAIT) {
  return page.waitForFunction(
    ([name, text]) =>
      [...document.querySelectorAll("#messages li.message:not(.outbox)")].some(
        (li) =>
          li.querySelector(".name")?.textContent === name &&
          li.querySelector(".text")?.textContent === text,
      ),
    [name, text],
    { timeout },
  );
}

/** How many confirmed messages from `name` with `text` the tab shows. */
const countOf = (page, name, text) =>
  page.evaluate(
    ([name, text]) =>
      [...document.querySelectorAll("#messages li.message:not(.outbox)")].filter(
        (li) =>
          li.querySelector(".name")?.textContent === name &&
          li.querySelector(".text")?.textContent === text,
      ).length,
    [name, text],
  );

const outboxEmpty = (page) =>
  page.waitForFunction(() => document.querySelectorAll("#messages li.outbox").length === 0, null, {
    timeout: WAIT,
  });

const online = (page, n, timeout = WAIT) =>
  page.locator("#online", { hasText: new RegExp(`^${n} online$`) }).waitFor({ timeout });

const notice = (page, text, timeout = WAIT) =>
  page.locator("#messages li", { hasText: text }).last().waitFor({ timeout });

/** The "room degraded" pill: shown (`true`) or hidden. */
const degraded = (page, shown, timeout) =>
  page.locator("#room").waitFor({ state: shown ? "visible" : "hidden", timeout });

// ---------------------------------------------------------------------------

async function main() {
  assert(fs.existsSync(BIN), `no chat binary at ${BIN}: run scripts/chat-cluster.sh`);
  assert(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}`);
  const redisPort = await freePort();
  const portA = await freePort();
  const portB = await freePort();
  const urlA = `http://127.0.0.1:${portA}/`;
  const urlB = `http://127.0.0.1:${portB}/`;
  let browser = null;
  let alice = null;
  let bob = null;

  try {
    await check(`redis-server starts on 127.0.0.1:${redisPort}, saving nothing`, () =>
      startRedis(redisPort),
    );

    await check(`two chat processes start with --redis, on ports ${portA} and ${portB}`, async () => {
      await Promise.all([startChat("a", portA, redisPort), startChat("b", portB, redisPort)]);
      await Promise.all([
        logged("a", /^cluster: connected to Redis/, 0),
        logged("b", /^cluster: connected to Redis/, 0),
      ]);
    });

    await check("Chromium starts", async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        timeout: WAIT,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
    });

    await check("a tab on each process connects and joins; both show 2 online", async () => {
      alice = await openTab(browser, "alice (a)", urlA);
      bob = await openTab(browser, "bob (b)", urlB);
      await Promise.all([state(alice, "connected"), state(bob, "connected")]);
      await join(alice, "alice");
      await join(bob, "bob");
      await notice(alice, "bob joined.");
      await Promise.all([online(alice, 2), online(bob, 2)]);
      assert(!(await alice.locator("#room").isVisible()), "alice's tab shows the room degraded");
    });

    for (const [tab, name, text] of [
      [() => alice, "alice", "Hello from process A."],
      [() => bob, "bob", "And hello from process B: <b>tags</b>, \"quotes\", café."],
    ]) {
      await check(`${name}'s message reaches the tab on the other process: ${JSON.stringify(text)}`, async () => {
        await say(tab(), text);
        await Promise.all([shows(alice, name, text), shows(bob, name, text)]);
        await outboxEmpty(tab());
      });
    }

    await check("a third tab on process B: 3 online on A; it leaves: 2 online, and A hears it left", async () => {
      const carol = await openTab(browser, "carol (b)", urlB);
      await state(carol, "connected");
      await join(carol, "carol");
      await Promise.all([online(alice, 3), online(bob, 3), online(carol, 3)]);
      await notice(alice, "carol joined.");
      await carol.context().close();
      await notice(alice, "carol left.");
      await Promise.all([online(alice, 2), online(bob, 2)]);
    });

    await check("Redis is killed: both tabs show the room degraded, and stay connected", async () => {
      await kill("redis");
      await Promise.all([degraded(alice, true, WAIT), degraded(bob, true, WAIT)]);
      for (const tab of [alice, bob]) {
        await tab.locator("#messages .error", { hasText: "other chat servers are unreachable" }).last().waitFor();
        const status = await tab.getAttribute("#status", "data-state");
        assert(status === "connected", `the tab's connection is ${status}`);
      }
    });

    const duringOutage = "Sent while Redis was down.";
    await check("a message sent during the outage reaches its own process's tab at once", async () => {
      await say(alice, duringOutage);
      await shows(alice, "alice", duringOutage);
      await outboxEmpty(alice);
      await sleep(500);
      assert((await countOf(bob, "alice", duringOutage)) === 0, "bob got it with Redis down");
    });

    await check(`screenshot of the room degraded saved to ${path.relative(root, SCREENSHOT)}`, async () => {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await alice.locator("#text").blur();
      await alice.screenshot({ path: SCREENSHOT });
    });

    let redisFrom = 0;
    await check("Redis starts again on the same port (empty): both tabs show the room recovered", async () => {
      redisFrom = logs.redis.length;
      await startRedis(redisPort);
      await Promise.all([degraded(alice, false, RECOVER_WAIT), degraded(bob, false, RECOVER_WAIT)]);
      for (const tab of [alice, bob]) await notice(tab, "Connected to the other chat servers again");
    });

    await check("the message sent during the outage reaches the other process's tab, once", async () => {
      await shows(bob, "alice", duringOutage, RECOVER_WAIT);
      await sleep(1000); // a second copy would be on its heels
      assert((await countOf(bob, "alice", duringOutage)) === 1, "bob got it more than once");
      assert((await countOf(alice, "alice", duringOutage)) === 1, "alice got it more than once");
      // And nothing older came again: Redis restarted empty, and each
      // process wrote its last minute again, which the other dropped.
      assert((await countOf(bob, "alice", "Hello from process A.")) === 1, "an old message came again");
    });

    await check("after the restart: 2 online in both tabs, and messages cross both ways", async () => {
      await Promise.all([online(alice, 2), online(bob, 2)]);
      await say(bob, "Redis is back.");
      await Promise.all([shows(alice, "bob", "Redis is back."), shows(bob, "bob", "Redis is back.")]);
      await say(alice, "So it is.");
      await Promise.all([shows(alice, "alice", "So it is."), shows(bob, "alice", "So it is.")]);
    });

    await check("process B crashes: A's tab counts its member gone (1 online) once B falls silent", async () => {
      await kill("b");
      await notice(alice, "1 person on another chat server left", GONE_WAIT);
      await online(alice, 1, WAIT);
    });

    await check("the pages raised no script errors", async () => {
      assert(pageErrors.length === 0, pageErrors.join("; "));
    });
  } finally {
    await bounded(browser?.close() ?? Promise.resolve(), WAIT, "browser close").catch(() => {});
    for (const label of [...children.keys()]) await kill(label).catch(() => {});
  }

  if (results.failed > 0) {
    for (const [label, lines] of Object.entries(logs)) {
      console.log(`${label} log (last 30 lines):`);
      for (const line of lines.slice(-30)) console.log(`  ${line}`);
    }
  }
}

function killAll() {
  for (const child of children.values()) child.kill("SIGKILL");
}

const watchdog = setTimeout(() => {
  results.failed += 1;
  console.log(`not ok - the run did not finish within ${TOTAL_TIMEOUT / 1000} s`);
  killAll();
  console.log(summary());
  process.exit(1);
}, TOTAL_TIMEOUT);

try {
  await main();
} catch (error) {
  results.failed += 1;
  console.log(`not ok - ${error?.message ?? error}`);
  killAll();
}
clearTimeout(watchdog);
console.log(summary());
process.exit(results.failed > 0 ? 1 : 0);
