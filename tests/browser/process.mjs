// The processes a browser test runs beside the browser (the chat server,
// redis-server): a free loopback port, a child that counts as started once
// a line of its output says so, and a kill that waits for the exit.

import { spawn } from "node:child_process";
import net from "node:net";

import { bounded } from "./report.mjs";

// A port on 127.0.0.1 that was free a moment ago (the OS chose it).
export async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

// Spawns `command` and resolves with the child once a line of its output
// (stdout or stderr) matches `ready`, or rejects after `wait` ms or when it
// exits first. Every line goes to `log`, and to the console with `verbose`;
// `onSpawn` sees the child as soon as it exists.
export function spawnReady({ label, command, args, ready, log, wait, verbose, onSpawn }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    onSpawn?.(child);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${label} did not become ready`));
    }, wait);
    const onLine = (line) => {
      log.push(line);
      if (verbose) console.log(`  ${label}: ${line}`);
      if (ready.test(line)) {
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
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited before it was ready (${signal ?? code})`));
    });
  });
}

// Kills `child` at once, as a crash would, and waits (at most `wait` ms)
// for it to be gone; nothing to do for one already gone.
export async function killNow(child, wait, label) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await bounded(exited, wait, `${label} exit`);
}
