/**
 * Sets a key taken from the file on a plain object. A tag or element named `__proto__` would
 * otherwise replace the object's prototype instead of becoming a field.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
