/**
 * Registry names allow `.` (MCP's `<server>.<tool>`), which OpenAI's function names refuse: the
 * model sees `[A-Za-z0-9_-]` names, mapped back here.
 */
export class ModelToolNames {
  private readonly toRegistry = new Map<string, string>();
  private readonly toModelName = new Map<string, string>();

  toModel(name: string): string {
    const known = this.toModelName.get(name);
    if (known !== undefined) return known;
    const base = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
    let candidate = base;
    for (let n = 2; this.toRegistry.has(candidate); n++) candidate = `${base}_${n}`;
    this.toRegistry.set(candidate, name);
    this.toModelName.set(name, candidate);
    return candidate;
  }

  fromModel(name: string): string {
    return this.toRegistry.get(name) ?? name;
  }
}
