// A value that must never be written anywhere (endpoint URL, key). Wrapping it means an
// accidental JSON.stringify, template string or console.log prints a placeholder.
import { inspect } from "node:util";

export class SecretValue {
  #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The real value, for the one place that needs it (an outgoing HTTP request). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[secret]";
  }
  toJSON(): string {
    return "[secret]";
  }
  [inspect.custom](): string {
    return "[secret]";
  }
}
