/** `GET /_sim/stats` body, exactly as docs/simulator.md ("Control surface") fixes it: tests and scripts read it. */
export interface SimStats {
  scans_created: number;
  launches: number;
  stops: number;
  deletes: number;
  by_name: Record<string, { created: number; launched: number; stopped: number }>;
}

/** Counts successful API operations only: a call refused with 4xx/5xx/412 changes nothing. */
export class StatsCounter {
  private stats: SimStats = StatsCounter.empty();

  private static empty(): SimStats {
    return { scans_created: 0, launches: 0, stops: 0, deletes: 0, by_name: {} };
  }

  private named(name: string): { created: number; launched: number; stopped: number } {
    let entry = this.stats.by_name[name];
    if (!entry) {
      entry = { created: 0, launched: 0, stopped: 0 };
      this.stats.by_name[name] = entry;
    }
    return entry;
  }

  created(name: string): void {
    this.stats.scans_created += 1;
    this.named(name).created += 1;
  }

  launched(name: string): void {
    this.stats.launches += 1;
    this.named(name).launched += 1;
  }

  /** `stop` and `kill` both count: each ends a run on the user's request. */
  stopped(name: string): void {
    this.stats.stops += 1;
    this.named(name).stopped += 1;
  }

  deleted(): void {
    this.stats.deletes += 1;
  }

  snapshot(): SimStats {
    return structuredClone(this.stats);
  }

  reset(): void {
    this.stats = StatsCounter.empty();
  }
}
