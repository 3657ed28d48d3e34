/**
 * True for a key that a lookup by name would find on Object.prototype (`__proto__`,
 * `constructor`, `toString`, …) or that names a prototype. Such keys from config files or clients
 * are refused, so that no read or merge of a map can reach the prototype.
 */
export function isPrototypeKey(key: string): boolean {
  return key in Object.prototype || key === 'prototype';
}
