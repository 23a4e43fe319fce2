/**
 * Intrinsics captured when the guest runtime is evaluated, before any pipeline code runs.
 *
 * A pipeline may monkey-patch globals (`JSON.stringify = …`, `Promise.prototype.then = …`,
 * `Array.prototype.push = …`). The runtime's own bookkeeping and serialisation must not depend on what the
 * pipeline did, so every built-in the runtime calls is read here once and called through `Reflect.apply`,
 * never looked up again on a prototype. The rules for runtime code that follow from this:
 *
 * - call prototype methods only through the `uncurry`-ed copies below (`arrayPush(list, x)`);
 * - no `for…of`, array spread or array destructuring (they go through the patchable array iterator);
 * - in async functions `return await p`, never `return p` (resolving with a promise calls its `then`).
 *
 * Internal to the SDK: not part of the `tau` module's public surface.
 */

const ReflectApply = Reflect.apply;

/** Turns a prototype method into a function taking `this` as its first argument, immune to later patches. */
function uncurry<T, A extends unknown[], R>(method: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return (self: T, ...args: A): R => ReflectApply(method, self, args) as R;
}

export const globalObject: typeof globalThis = globalThis;

export const JSONStringify = JSON.stringify;
export const JSONParse = JSON.parse;

export const ObjectFreeze = Object.freeze;
export const ObjectIsFrozen = Object.isFrozen;
export const ObjectKeys = Object.keys;
export const ObjectCreate = Object.create;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ObjectSetPrototypeOf = Object.setPrototypeOf;
export const ObjectHasOwn = uncurry(Object.prototype.hasOwnProperty as (this: unknown, key: PropertyKey) => boolean);
export const ObjectPrototype = Object.prototype;

export const ArrayIsArray = Array.isArray;
export const arrayPush = uncurry(Array.prototype.push as (this: unknown[], ...items: unknown[]) => number);
export const arraySplice = uncurry(Array.prototype.splice as (this: unknown[], start: number, deleteCount: number) => unknown[]);
export const arrayIndexOf = uncurry(Array.prototype.indexOf as (this: readonly unknown[], item: unknown) => number);
export const arrayJoin = uncurry(Array.prototype.join as (this: readonly unknown[], separator: string) => string);

export const StringCtor = String;
export const stringSlice = uncurry(String.prototype.slice);
export const stringIndexOf = uncurry(String.prototype.indexOf as (this: string, search: string, from?: number) => number);
export const stringTrim = uncurry(String.prototype.trim);

export const NumberIsFinite = Number.isFinite;
export const NumberCtor = Number;
export const DateCtor = Date;
export const DateNow = Date.now;
export const dateGetTime = uncurry(Date.prototype.getTime);
export const ErrorCtor = Error;
export const TypeErrorCtor = TypeError;
export const PromiseCtor = Promise;
export const SymbolFor = Symbol.for;
export const asyncIteratorSymbol: typeof Symbol.asyncIterator = Symbol.asyncIterator;
export const NumberIsInteger = Number.isInteger;
const MapCtor = Map;
const WeakMapCtor = WeakMap;

/**
 * The disposal symbols. V8 in Node 20 has neither; esbuild's lowered `await using` falls back to
 * `Symbol.for("Symbol.asyncDispose")`, and guest.ts installs exactly these values on `Symbol` when missing,
 * so the runtime, the pipeline bundle and the SDK's declarations all agree.
 */
export const asyncDisposeSymbol: typeof Symbol.asyncDispose = (Symbol.asyncDispose ??
  Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;
export const disposeSymbol: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for("Symbol.dispose")) as typeof Symbol.dispose;

interface SafeMapMethods<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
  has(key: K): boolean;
  delete(key: K): boolean;
}

/** A Map whose methods are the captured ones (its prototype is a frozen copy, not Map.prototype). */
export function safeMap<K, V>(): SafeMapMethods<K, V> & { readonly size: number } {
  const map = new MapCtor<K, V>();
  ObjectSetPrototypeOf(map, safeMapPrototype);
  return map as unknown as SafeMapMethods<K, V> & { readonly size: number };
}

/** A WeakMap with captured methods, for the same reason as safeMap. */
export function safeWeakMap<K extends object, V>(): SafeMapMethods<K, V> {
  const map = new WeakMapCtor<K, V>();
  ObjectSetPrototypeOf(map, safeWeakMapPrototype);
  return map as unknown as SafeMapMethods<K, V>;
}

function frozenPrototype(source: object, names: readonly string[], getters: readonly string[] = []): object {
  const proto = ObjectCreate(null) as Record<string, unknown>;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    ObjectDefineProperty(proto, name, { value: (source as Record<string, unknown>)[name] });
  }
  for (let i = 0; i < getters.length; i++) {
    const name = getters[i]!;
    const desc = Reflect.getOwnPropertyDescriptor(source, name);
    if (desc) ObjectDefineProperty(proto, name, desc);
  }
  return ObjectFreeze(proto);
}

const safeMapPrototype = frozenPrototype(Map.prototype, ["get", "set", "has", "delete"], ["size"]);
const safeWeakMapPrototype = frozenPrototype(WeakMap.prototype, ["get", "set", "has", "delete"]);
