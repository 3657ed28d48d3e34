/** The time budgets are measured in; tests inject their own to move between windows. */
export abstract class UsageClock {
  abstract now(): number;
}

export class SystemUsageClock extends UsageClock {
  now(): number {
    return Date.now();
  }
}
