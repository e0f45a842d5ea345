// The chat example in a real browser: two headless Chromium tabs talk
// through `examples/chat.rs`; newcomers send without pressing Join (with a
// name, and without one), a refused name and a refused message keep their
// text; then the server is killed and restarted on the same port, a message
// sent meanwhile waits as pending, and the page must reconnect by itself and
// deliver it. Each tab has a browser context of its own (its own storage,
// and a network that can be switched off alone).
//
// Run through scripts/browser-test.sh, which installs what this needs and
// builds the server. Settings (environment):
//   CHAT_BIN         the chat binary (default target/debug/examples/chat)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   CHAT_SCREENSHOT  where to save a screenshot of a conversation
//                    (default target/browser-test/chat.png)
//   CHAT_PENDING_SCREENSHOT  and one of a message pending while the server
//                    is down (default target/browser-test/chat-pending.png)
//   VERBOSE=1        print the server's log as it runs
//
// Every wait is bounded; the whole run gives up after TOTAL_TIMEOUT. The last
// line is "N passed, N failed[, N skipped]"; the exit status is 0 only when
// every check passed.

import fs from "node:fs";
import net from "node:net";
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
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SCREENSHOT =
  process.env.CHAT_SCREENSHOT || path.join(root, "target/browser-test/chat.png");
const PENDING_SCREENSHOT =
  process.env.CHAT_PENDING_SCREENSHOT || path.join(root, "target/browser-test/chat-pending.png");
const VERBOSE = process.env.VERBOSE === "1";

const STEP_TIMEOUT = 20_000; // one check, waits included
const WAIT = 10_000; // one wait for the page
const RECONNECT_WAIT = 15_000; // a tab's reconnect: its backoff waits at most 10 s
const TOTAL_TIMEOUT = 240_000; // the whole run

// ---------------------------------------------------------------------------
// Reporting (report.mjs): after the first failure the rest are skipped;
// each check is bounded by this file's step timeout.
const check = (name, fn) => checkWithin(name, fn, STEP_TIMEOUT);

// ---------------------------------------------------------------------------
// The server under test, a child process bound to 127.0.0.1 only.

const serverLog = [];
let server = null;

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
  return spawnReady({
    label: "server",
    command: BIN,
    args: [`127.0.0.1:${port}`],
    ready: /^chat listening on/,
    log: serverLog,
    wait: WAIT,
    verbose: VERBOSE,
  });
}

/** Kills the server at once, as a crash would, and waits for it to be gone. */
async function killServer() {
  const child = server;
  server = null;
  await killNow(child, WAIT, "server");
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

/** Opens the page in a tab with a fresh browser context; `before(page)` runs before it loads. */
async function openTab(browser, label, url, before = async () => {}) {
  const context = await browser.newContext({
    viewport: { width: 720, height: 460 },
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("pageerror", (error) => pageErrors.push(`${label}: ${error.message}`));
  await before(page);
  await page.goto(url, { timeout: WAIT });
  return page;
}

/** Closes a tab opened by `openTab`, and its context. */
const closeTab = (page) => page.context().close();

const state = (page, value, timeout = WAIT) =>
  page.locator(`#status[data-state="${value}"]`).waitFor({ timeout });

/** Waits until the tab is connected and has joined as `name`. */
const joined = (page, name, timeout = WAIT) =>
  page
    .locator('#status[data-state="connected"]', { hasText: new RegExp(`^connected as ${name}$`) })
    .waitFor({ timeout });

async function join(page, name) {
  await page.fill("#name", name);
  await page.press("#name", "Enter");
  await page.locator("#messages .notice", { hasText: `You joined as ${name}.` }).last().waitFor();
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** The tab's outbox entries (messages not yet confirmed by the server) holding `text`. */
const outboxEntry = (page, text) =>
  page.locator("#messages li.outbox").filter({
    has: page.locator(".text", { hasText: new RegExp(`^${escapeRegExp(text)}$`) }),
  });

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Waits until the tab's outbox is empty: every message sent was confirmed. */
const outboxEmpty = (page) =>
  page.waitForFunction(() => document.querySelectorAll("#messages li.outbox").length === 0, null, {
    timeout: WAIT,
  });

/** The texts of the confirmed chat messages from `name` that `page` shows, in order. */
const textsFrom = (page, name) =>
  page.evaluate(
    (name) =>
      [...document.querySelectorAll("#messages li.message:not(.outbox)")]
        .filter((li) => li.querySelector(".name")?.textContent === name)
        .map((li) => li.querySelector(".text")?.textContent),
    name,
  );

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

/** Presses "Reconnect now" while it is offered, until the tab has joined as `name`. */
async function reconnectNow(page, name) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const button = page.locator("#retry");
    if (await button.isVisible()) await button.click({ timeout: 1000 }).catch(() => {});
    try {
      return await joined(page, name, 500);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
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

    await check("two tabs load the page and connect", async () => {
      alice = await openTab(browser, "tab 1", url);
      bob = await openTab(browser, "tab 2", url);
      await Promise.all([state(alice, "connected"), state(bob, "connected")]);
    });

    await check("both tabs join under their names; 2 online", async () => {
      await join(alice, "alice");
      await join(bob, "bob");
      await Promise.all([joined(alice, "alice"), joined(bob, "bob")]);
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
        await outboxEmpty(tab());
      });
    }

    await check("the tabs' WebSocket negotiated permessage-deflate, and messages flow over it", async () => {
      for (const tab of [alice, bob]) {
        // The page copies its socket's WebSocket.extensions there on open:
        // the server's Sec-WebSocket-Extensions answer as the browser took it.
        const extensions = await tab.getAttribute("#status", "data-extensions");
        assert(
          /^permessage-deflate(;|$)/.test(extensions ?? ""),
          `WebSocket.extensions is ${JSON.stringify(extensions)}`,
        );
      }
      // Long and repetitive, so it is compressed (RSV1) both ways.
      const text = "compressed? ".repeat(40).trim();
      await say(alice, text);
      await Promise.all([shows(alice, "alice", text), shows(bob, "alice", text)]);
      await outboxEmpty(alice);
    });

    await check(`screenshot of a conversation saved to ${path.relative(root, SCREENSHOT)}`, async () => {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await alice.locator("#text").blur();
      await alice.screenshot({ path: SCREENSHOT });
    });

    await check("a too-long message is refused in the sender's tab only, its text kept to edit", async () => {
      const long = "x".repeat(5000);
      await say(bob, long);
      await bob.locator("#messages .error", { hasText: "Message too long" }).waitFor();
      const refused = outboxEntry(bob, long);
      await refused.locator(".error", { hasText: "Message too long" }).waitFor();
      await refused.locator(".state", { hasText: /^not sent$/ }).waitFor();
      await shows(bob, "alice", "And new lines\nstay new lines."); // still connected
      await refused.getByRole("button", { name: "Edit" }).click();
      assert((await bob.inputValue("#text")) === long, "Edit did not put the text back in the box");
      assert((await refused.count()) === 0, "the refused message stayed listed after Edit");
      await say(bob, "(sorry)");
      await Promise.all([shows(alice, "bob", "(sorry)"), shows(bob, "bob", "(sorry)")]);
      assert((await alice.locator("#messages .error").count()) === 0, "alice saw bob's error");
    });

    // Newcomers: tabs with fresh storage, so no name is remembered.
    async function newcomer(label) {
      const page = await openTab(browser, label, url);
      await state(page, "connected");
      const name = await page.inputValue("#name");
      assert(name === "", `a newcomer's name field holds ${JSON.stringify(name)}`);
      return page;
    }

    // `page` joined as `name` and its `text` reached bob, with nothing left pending.
    async function delivered(page, name, text) {
      await Promise.all([shows(bob, name, text), shows(page, name, text)]);
      await page.locator("#messages .notice", { hasText: `You joined as ${name}.` }).waitFor();
      await joined(page, name);
      await outboxEmpty(page);
    }

    async function leave(page, name) {
      await closeTab(page);
      await bob.locator("#messages .notice", { hasText: `${name} left.` }).last().waitFor();
      await online(bob, 2);
    }

    await check("a name and a message typed, Enter without Join: joins, then sends", async () => {
      const carol = await newcomer("tab 3");
      const text = "Hi all, I typed my name and pressed Enter.";
      await carol.fill("#name", "carol");
      await say(carol, text);
      await delivered(carol, "carol", text);
      await leave(carol, "carol");
    });

    await check("a name and a message typed, the Send button without Join: joins, then sends", async () => {
      const dave = await newcomer("tab 4");
      const text = "And I clicked Send.";
      await dave.fill("#name", "dave");
      await dave.fill("#text", text);
      await dave.click("#send");
      await delivered(dave, "dave", text);
      await leave(dave, "dave");
    });

    await check("no name: a guest name is picked, shown and explained, and the message sent", async () => {
      const guest = await newcomer("tab 5");
      const text = "No name, still heard.";
      await guest.fill("#text", text);
      await guest.click("#send");
      const name = await guest.inputValue("#name");
      assert(/^guest-\d{4}$/.test(name), `the name field holds ${JSON.stringify(name)}`);
      await guest.locator("#messages .notice", { hasText: `No name given, so you are ${name}.` }).waitFor();
      await delivered(guest, name, text);
      await leave(guest, name);
    });

    let erin = null;
    await check("a refused name is explained, the message waits pending; a good name sends it", async () => {
      erin = await newcomer("tab 6");
      const text = "Sent once my name was accepted.";
      // A control character cannot be typed, but a script or a paste can set one.
      await erin.evaluate(() => {
        document.getElementById("name").value = "erin\u0007";
      });
      await say(erin, text);
      await erin
        .locator("#messages .error", { hasText: "Names cannot contain control characters." })
        .waitFor();
      const entry = outboxEntry(erin, text);
      await entry.locator(".state", { hasText: "pending: choose a name and press Join" }).waitFor();
      assert((await entry.getAttribute("data-state")) === "queued", "not queued");
      await erin.fill("#name", "erin");
      await erin.click("#join");
      await delivered(erin, "erin", text);
    });

    await check("a burst of 16 messages arrives complete and in order, none refused", async () => {
      // More than the server takes at once (10, then 5 a second): the page paces them.
      const texts = Array.from({ length: 16 }, (_, i) => `burst ${i + 1}`);
      for (const text of texts) await say(erin, text);
      await shows(bob, "erin", texts.at(-1));
      await outboxEmpty(erin);
      const got = (await textsFrom(bob, "erin")).filter((text) => text.startsWith("burst "));
      assert(JSON.stringify(got) === JSON.stringify(texts), `bob got ${JSON.stringify(got)}`);
      await leave(erin, "erin");
    });

    await check("a message waiting while the chat is unreachable survives reloading the tab", async () => {
      let reachable = false;
      // The page is served, but its WebSocket is refused until `reachable`.
      const frank = await openTab(browser, "tab 7", url, (page) =>
        page.routeWebSocket(/\/ws$/, (ws) => (reachable ? ws.connectToServer() : ws.close())),
      );
      const text = "Typed, then the tab was reloaded.";
      await frank.fill("#name", "frank");
      await say(frank, text);
      await outboxEntry(frank, text).locator(".state", { hasText: /^pending/ }).waitFor();
      await frank.reload({ timeout: WAIT });
      await outboxEntry(frank, text).locator(".state", { hasText: /^pending/ }).waitFor();
      const name = await frank.inputValue("#name");
      assert(name === "frank", `after the reload the name field holds ${JSON.stringify(name)}`);
      reachable = true;
      await reconnectNow(frank, "frank");
      await delivered(frank, "frank", text);
      await leave(frank, "frank");
    });

    await check("killing the server shows both tabs disconnected, reconnecting", async () => {
      await killServer();
      for (const tab of [alice, bob]) {
        await state(tab, "disconnected");
        const text = await tab.locator("#status").textContent();
        assert(/reconnecting in \d+s/.test(text), `status says ${JSON.stringify(text)}`);
        const placeholder = await tab.getAttribute("#text", "placeholder");
        assert(
          /waits and goes out on reconnect/.test(placeholder),
          `the message box says ${JSON.stringify(placeholder)}`,
        );
      }
    });

    const whileDown = "Typed while the server was down.";
    await check("a message sent while the server is down is listed as pending", async () => {
      // Alice's network goes too, so that bob is back in the room before her
      // message goes out: the room keeps no history for late joiners.
      await alice.context().setOffline(true);
      await say(alice, whileDown);
      const entry = outboxEntry(alice, whileDown);
      await entry.locator(".state", { hasText: "pending: sent once connected" }).waitFor();
      assert((await entry.getAttribute("data-state")) === "queued", "not queued");
      assert((await alice.inputValue("#text")) === "", "the message box was not emptied");
    });

    await check(`screenshot of a pending message saved to ${path.relative(root, PENDING_SCREENSHOT)}`, async () => {
      fs.mkdirSync(path.dirname(PENDING_SCREENSHOT), { recursive: true });
      await alice.locator("#text").blur();
      await alice.screenshot({ path: PENDING_SCREENSHOT });
    });

    await check("the server restarts on the same port", () => startServer(port));

    await check("bob reconnects and rejoins by himself; alice's message still waits", async () => {
      await joined(bob, "bob", RECONNECT_WAIT);
      await online(bob, 1);
      const entry = outboxEntry(alice, whileDown);
      assert((await entry.getAttribute("data-state")) === "queued", "alice's message is not queued");
    });

    await check("alice, back online, rejoins by herself and her pending message reaches bob; 2 online", async () => {
      await alice.context().setOffline(false);
      await joined(alice, "alice", RECONNECT_WAIT);
      await Promise.all([shows(bob, "alice", whileDown), shows(alice, "alice", whileDown)]);
      await outboxEmpty(alice);
      await Promise.all([online(alice, 2), online(bob, 2)]);
      const got = (await textsFrom(bob, "alice")).filter((text) => text === whileDown);
      assert(got.length === 1, `bob got it ${got.length} times`);
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

  if (results.failed > 0) {
    console.log("server log (last 40 lines):");
    for (const line of serverLog.slice(-40)) console.log(`  ${line}`);
  }
}

const watchdog = setTimeout(() => {
  results.failed += 1;
  console.log(`not ok - the run did not finish within ${TOTAL_TIMEOUT / 1000} s`);
  server?.kill("SIGKILL");
  console.log(summary());
  process.exit(1);
}, TOTAL_TIMEOUT);

try {
  await main();
} catch (error) {
  results.failed += 1;
  console.log(`not ok - ${error?.message ?? error}`);
  server?.kill("SIGKILL");
}
clearTimeout(watchdog);
console.log(summary());
process.exit(results.failed > 0 ? 1 : 0);
