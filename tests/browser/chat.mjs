// The chat example in a real browser: two headless Chromium tabs talk
// through `examples/chat.rs`, then the server is killed and restarted on the
// same port and the page must notice and reconnect by itself.
//
// Run through scripts/browser-test.sh, which installs what this needs and
// builds the server. Settings (environment):
//   CHAT_BIN         the chat binary (default target/debug/examples/chat)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   CHAT_SCREENSHOT  where to save a screenshot of a conversation
//                    (default target/browser-test/chat.png)
//   VERBOSE=1        print the server's log as it runs
//
// Every wait is bounded; the whole run gives up after TOTAL_TIMEOUT. The last
// line is "N passed, N failed[, N skipped]"; the exit status is 0 only when
// every check passed.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.CHAT_BIN || path.join(root, "target/debug/examples/chat");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SCREENSHOT =
  process.env.CHAT_SCREENSHOT || path.join(root, "target/browser-test/chat.png");
const VERBOSE = process.env.VERBOSE === "1";

const STEP_TIMEOUT = 20_000; // one check, waits included
const WAIT = 10_000; // one wait for the page
const TOTAL_TIMEOUT = 150_000; // the whole run

// ---------------------------------------------------------------------------
// Reporting: numbered checks; after the first failure the rest are skipped,
// since each builds on the state the previous ones left.

let passed = 0;
let failed = 0;
let skipped = 0;

async function check(name, fn) {
  if (failed > 0) {
    skipped += 1;
    console.log(`skip - ${name}`);
    return;
  }
  const started = Date.now();
  try {
    await bounded(fn(), STEP_TIMEOUT, name);
    passed += 1;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}: ${error?.message ?? error}`);
  }
}

function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// The server under test, a child process bound to 127.0.0.1 only.

const serverLog = [];
let server = null;

async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Starts the server and resolves once it listens; retries while the port is busy. */
async function startServer(port) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    try {
      server = await spawnServer(port);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

function spawnServer(port) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, [`127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("server did not start listening"));
    }, WAIT);
    const onLine = (line) => {
      serverLog.push(line);
      if (VERBOSE) console.log(`  server: ${line}`);
      if (line.startsWith("chat listening on")) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        buffered += chunk;
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          onLine(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
        }
      });
    }
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (${signal ?? code})`));
    });
  });
}

/** Kills the server at once, as a crash would, and waits for it to be gone. */
async function killServer() {
  const child = server;
  server = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await bounded(exited, WAIT, "server exit");
}

/** One raw HTTP exchange: writes `request`, resolves with all that comes back. */
function rawExchange(port, request) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => (data += chunk));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
    socket.setTimeout(WAIT, () => {
      socket.destroy();
      reject(new Error("no answer"));
    });
  });
}

// ---------------------------------------------------------------------------
// The page.

const pageErrors = [];

async function openTab(context, label, url) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("pageerror", (error) => pageErrors.push(`${label}: ${error.message}`));
  await page.goto(url, { timeout: WAIT });
  return page;
}

const state = (page, value) => page.locator(`#status[data-state="${value}"]`).waitFor();

async function join(page, name) {
  await page.fill("#name", name);
  await page.press("#name", "Enter");
  await page.locator("#messages .notice", { hasText: `You joined as ${name}.` }).last().waitFor();
}

async function say(page, text) {
  await page.locator("#send:not([disabled])").waitFor();
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** Waits until `page` shows a chat message from `name` whose text is exactly `text`. */
function shows(page, name, text) {
  return page.waitForFunction(
    ([name, text]) =>
      [...document.querySelectorAll("#messages li.message")].some(
        (li) =>
          li.querySelector(".name")?.textContent === name &&
          li.querySelector(".text")?.textContent === text &&
          /\d/.test(li.querySelector(".time")?.textContent ?? ""),
      ),
    [name, text],
    { timeout: WAIT },
  );
}

const online = (page, n) =>
  page.locator("#online", { hasText: new RegExp(`^${n} online$`) }).waitFor();

// ---------------------------------------------------------------------------

async function main() {
  assert(fs.existsSync(BIN), `no chat binary at ${BIN}: run scripts/browser-test.sh`);
  assert(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let browser = null;
  let alice = null;
  let bob = null;

  try {
    await check(`the server starts on 127.0.0.1:${port}`, () => startServer(port));

    await check("HTTP: GET / is the page, other paths 404, POST 405", async () => {
      const page = await fetch(url);
      assert(page.status === 200, `GET / gave ${page.status}`);
      assert(page.headers.get("content-type")?.startsWith("text/html"), "not text/html");
      assert((await page.text()).includes('id="messages"'), "not the chat page");
      const missing = await fetch(`${url}nope`);
      assert(missing.status === 404, `GET /nope gave ${missing.status}`);
      const post = await fetch(url, { method: "POST", body: "x" });
      assert(post.status === 405, `POST / gave ${post.status}`);
    });

    await check("WebSocket: an upgrade outside /ws is refused with 404", async () => {
      const reply = await rawExchange(
        port,
        "GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      );
      assert(reply.startsWith("HTTP/1.1 404 "), `got ${JSON.stringify(reply.split("\r\n")[0])}`);
    });

    await check("Chromium starts", async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        timeout: WAIT,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
    });

    const context = browser
      ? await browser.newContext({ viewport: { width: 720, height: 460 }, deviceScaleFactor: 1 })
      : null;

    await check("two tabs load the page and connect", async () => {
      alice = await openTab(context, "tab 1", url);
      bob = await openTab(context, "tab 2", url);
      await Promise.all([state(alice, "connected"), state(bob, "connected")]);
    });

    await check("both tabs join under their names; 2 online", async () => {
      await join(alice, "alice");
      await join(bob, "bob");
      await Promise.all([online(alice, 2), online(bob, 2)]);
      await alice.locator("#messages .notice", { hasText: "bob joined." }).waitFor();
    });

    const conversation = [
      [() => alice, "alice", "Hi Bob! The page and the WebSocket share one port."],
      [() => bob, "bob", 'Nice. "Quotes", <b>tags</b> and café arrive as plain text.'],
      [() => alice, "alice", "And new lines\nstay new lines."],
    ];
    for (const [tab, name, text] of conversation) {
      await check(`${name}'s message appears in both tabs: ${JSON.stringify(text)}`, async () => {
        await say(tab(), text);
        await Promise.all([shows(alice, name, text), shows(bob, name, text)]);
      });
    }

    await check(`screenshot of a conversation saved to ${path.relative(root, SCREENSHOT)}`, async () => {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await alice.locator("#text").blur();
      await alice.screenshot({ path: SCREENSHOT });
    });

    await check("the server's error for a too-long message shows in the sender's tab only", async () => {
      await say(bob, "x".repeat(5000));
      await bob.locator("#messages .error", { hasText: "Message too long" }).waitFor();
      await shows(bob, "alice", "And new lines\nstay new lines."); // still connected
      await say(bob, "(sorry)");
      await Promise.all([shows(alice, "bob", "(sorry)"), shows(bob, "bob", "(sorry)")]);
      assert((await alice.locator("#messages .error").count()) === 0, "alice saw bob's error");
    });

    await check("killing the server shows both tabs disconnected, reconnecting", async () => {
      await killServer();
      for (const tab of [alice, bob]) {
        await state(tab, "disconnected");
        const text = await tab.locator("#status").textContent();
        assert(/reconnecting in \d+s/.test(text), `status says ${JSON.stringify(text)}`);
        assert(await tab.locator("#send").isDisabled(), "send stays enabled while disconnected");
      }
    });

    await check("the server restarts on the same port", () => startServer(port));

    await check("both tabs reconnect and rejoin by themselves; 2 online", async () => {
      await Promise.all([state(alice, "connected"), state(bob, "connected")]);
      await Promise.all([online(alice, 2), online(bob, 2)]);
      await Promise.all([
        alice.locator("#send:not([disabled])").waitFor(),
        bob.locator("#send:not([disabled])").waitFor(),
      ]);
    });

    await check("a message after the restart reaches both tabs", async () => {
      const text = "Back again after the restart.";
      await say(bob, text);
      await Promise.all([shows(alice, "bob", text), shows(bob, "bob", text)]);
    });

    await check("renaming reconnects under the new name", async () => {
      await join(alice, "alice2");
      await bob.locator("#messages .notice", { hasText: "alice2 joined." }).waitFor();
      await online(bob, 2);
      await say(alice, "Renamed.");
      await Promise.all([shows(alice, "alice2", "Renamed."), shows(bob, "alice2", "Renamed.")]);
    });

    await check("the page raised no script errors", async () => {
      assert(pageErrors.length === 0, pageErrors.join("; "));
    });
  } finally {
    await bounded(browser?.close() ?? Promise.resolve(), WAIT, "browser close").catch(() => {});
    await killServer().catch(() => {});
  }

  if (failed > 0) {
    console.log("server log (last 40 lines):");
    for (const line of serverLog.slice(-40)) console.log(`  ${line}`);
  }
}

const watchdog = setTimeout(() => {
  failed += 1;
  console.log(`not ok - the run did not finish within ${TOTAL_TIMEOUT / 1000} s`);
  server?.kill("SIGKILL");
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(1);
}, TOTAL_TIMEOUT);

try {
  await main();
} catch (error) {
  failed += 1;
  console.log(`not ok - ${error?.message ?? error}`);
  server?.kill("SIGKILL");
}
clearTimeout(watchdog);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
process.exit(failed > 0 ? 1 : 0);
