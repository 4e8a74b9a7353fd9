/** A fault that applies to the next `times` requests (or until cleared), then clears itself. */
export class FaultSwitch<F extends object> {
  #fault: F | undefined;
  #remaining = Number.POSITIVE_INFINITY;

  set(fault: F | undefined): void {
    this.#fault = fault;
    this.#remaining = fault !== undefined && 'times' in fault && typeof fault.times === 'number'
      ? fault.times
      : Number.POSITIVE_INFINITY;
    if (this.#remaining <= 0) this.#fault = undefined;
  }

  /** The current fault, without counting a use. */
  peek(): F | undefined {
    return this.#fault;
  }

  /** The fault for this request, counting it against `times`. */
  take(): F | undefined {
    const fault = this.#fault;
    if (fault === undefined) return undefined;
    this.#remaining -= 1;
    if (this.#remaining <= 0) this.#fault = undefined;
    return fault;
  }
}
