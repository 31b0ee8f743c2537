// @ts-check
// Property access for Rust: reading an app's options object (whose getters
// may throw), and building the plain objects of the contract.

/**
 * `target[key]`; undefined when target is not an object or the read throws
 * (a getter on an app's options object).
 * @param {unknown} target
 * @param {string} key
 * @returns {unknown}
 */
export function get(target, key) {
  try {
    return typeof target === "object" && target !== null ? /** @type {Record<string, unknown>} */ (target)[key] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `target[key] = value`, on the plain objects Rust builds.
 * @param {Record<string, unknown>} target
 * @param {string} key
 * @param {unknown} value
 */
export function set(target, key, value) {
  target[key] = value;
}

/**
 * An object's own enumerable members as [key, value, key, value, ...]: one
 * array for Rust to read.
 * @param {object} target
 * @returns {unknown[]}
 */
export function members(target) {
  const out = [];
  for (const [key, value] of Object.entries(target)) out.push(key, value);
  return out;
}
