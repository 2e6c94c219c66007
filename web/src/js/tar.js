// Packs browser File objects into a gzip-compressed POSIX ustar archive, so a picked directory or
// loose files (a script, a model.pt) upload as the `code` archive the server unpacks into the working dir.

const kBlock = 512;
const encoder = new TextEncoder();

function writeString(buf, offset, length, text) {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new Error(`tar: "${text}" is too long`);
  buf.set(bytes, offset);
}

function writeOctal(buf, offset, length, value) {
  writeString(buf, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

// Splits a path into ustar (prefix, name): name ≤ 100 bytes, prefix ≤ 155 bytes, cut at a '/'.
function splitPath(path) {
  if (encoder.encode(path).length <= 100) return ['', path];
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return [prefix, name];
  }
  throw new Error(`tar: path too long: ${path}`);
}

export function tarHeader(path, size, mtime, mode) {
  const header = new Uint8Array(kBlock);
  const [prefix, name] = splitPath(path);
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, mode);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, Math.floor(mtime / 1000));
  header.fill(0x20, 148, 156);          // checksum field counts as spaces while summing
  header[156] = 0x30;                   // '0' = regular file
  writeString(header, 257, 6, 'ustar\0');
  writeString(header, 263, 2, '00');
  writeString(header, 345, 155, prefix);
  let sum = 0;
  for (const b of header) sum += b;
  writeString(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

// entries: [{path, file}] -> Blob (application/gzip).
export async function tarGz(entries) {
  const parts = [];
  for (const { path, file } of entries) {
    const clean = path.replace(/^\/+/, '');
    if (!clean || clean.split('/').includes('..')) throw new Error(`tar: bad path ${path}`);
    const mode = /\.(sh|py)$/.test(clean) ? 0o755 : 0o644;
    parts.push(tarHeader(clean, file.size, file.lastModified || Date.now(), mode), file);
    const pad = (kBlock - (file.size % kBlock)) % kBlock;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(kBlock * 2));
  const tar = new Blob(parts);
  const gz = tar.stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(gz).blob().then((b) => new Blob([b], { type: 'application/gzip' }));
}

export function isArchiveName(name) {
  return /\.(tar|tar\.gz|tgz|zip)$/i.test(name);
}
