// Saving files from the page: a Blob URL on a temporary link (no server round trip, allowed under a strict CSP).

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Bytes from the worker (structured clone gives them a plain ArrayBuffer, never a shared one). */
export function saveBytes(bytes: Uint8Array, filename: string, type = 'application/octet-stream'): void {
  saveBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), filename);
}

export function saveText(text: string, filename: string, type: string): void {
  saveBlob(new Blob([text], { type }), filename);
}

/** A file-name-safe timestamp, e.g. 2025-01-31T12-05-09. */
export function stamp(date = new Date()): string {
  return date.toISOString().slice(0, 19).replace(/:/g, '-');
}

/** Save from a URL the page already has (a canvas's data URL). */
export function saveUrl(url: string, filename: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
}
