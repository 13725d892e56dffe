// Number formatting for the page and the exported tables, and a task in a few characters.
import type { TaskSpec } from '../../lab/api';

export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(digits)}%`;
}

/** 1234567 → "1.23 M"; for FLOPs, token rates and counts. */
export function si(x: number, unit = ''): string {
  if (!Number.isFinite(x)) return '—';
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  let v = Math.abs(x);
  while (v >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2;
  return `${x < 0 ? '-' : ''}${v.toFixed(digits)}${prefixes[i] || unit ? ' ' : ''}${prefixes[i]}${unit}`;
}

/** Seconds → "42 s", "3 min 05 s", "1 h 02 min". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** One CSV cell (RFC 4180 quoting). */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A byte count: "512 B", "3.4 KiB", "1.20 MiB", "2.0 GiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** A task in a few characters: "path-star G(2,3,10)", "addition 3 digits, reversed", "custom pairs". */
export function taskText(t: TaskSpec): string {
  if (t.kind === 'path-star') return `path-star G(${t.degree},${t.pathLength},${t.nodes})`;
  if (t.kind === 'addition')
    return `addition ${t.digits} digit${t.digits > 1 ? 's' : ''}${t.reversed ? ', reversed' : ''}`;
  return 'custom pairs';
}
