// What every browser test here reports with: checks run in order, each
// bounded in time; after the first failure the rest are skipped, since each
// builds on the state the previous ones left. `results` holds the counts a
// test prints at its end.

export const results = { passed: 0, failed: 0, skipped: 0 };

// Runs one check named `name`, bounded by `stepTimeout` ms.
export async function check(name, fn, stepTimeout) {
  if (results.failed > 0) {
    results.skipped += 1;
    console.log(`skip - ${name}`);
    return;
  }
  const started = Date.now();
  try {
    await bounded(fn(), stepTimeout, name);
    results.passed += 1;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.failed += 1;
    console.log(`not ok - ${name}: ${error?.message ?? error}`);
  }
}

// `promise`, or an error naming `what` after `ms` ms.
export function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The closing line every test prints.
export function summary() {
  const { passed, failed, skipped } = results;
  return `${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : "");
}
