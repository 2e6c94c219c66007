// Browser-free checks of the pure helpers: the command splitter of the builder and the tar.gz packer
// (the archive is read back by the system's tar).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { splitCommand } from '../src/js/pages/builder.js';
import { isArchiveName, tarGz, tarHeader } from '../src/js/tar.js';

describe('splitCommand', () => {
  it('splits on whitespace and keeps quoted groups', () => {
    assert.deepEqual(splitCommand('/usr/bin/python3  train.py --lr {lr}'), ['/usr/bin/python3', 'train.py', '--lr', '{lr}']);
    assert.deepEqual(splitCommand(`sh -c 'echo "a b" > x'`), ['sh', '-c', 'echo "a b" > x']);
    assert.deepEqual(splitCommand('a "" b'), ['a', '', 'b']);
    assert.deepEqual(splitCommand('say hello\\ world "q\\"uote"'), ['say', 'hello world', 'q"uote']);
    assert.deepEqual(splitCommand('   '), []);
  });
  it('reports an unclosed quote against the argv field', () => {
    assert.throws(() => splitCommand('echo "open'), (e) => e.field === 'argv');
  });
});

describe('tarGz', () => {
  it('packs files the system tar reads back byte for byte, long paths included', async () => {
    const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    const files = [
      { path: 'train.py', file: new File(['print("hi")\n'], 'train.py', { lastModified: 1_700_000_000_000 }) },
      { path: `${longDir}/model.pt`, file: new File([new Uint8Array(1500).fill(7)], 'model.pt') },
      { path: 'empty.txt', file: new File([], 'empty.txt') },
    ];
    const blob = await tarGz(files);
    const dir = mkdtempSync(join(tmpdir(), 'stoke-tar-'));
    writeFileSync(join(dir, 'a.tar.gz'), Buffer.from(await blob.arrayBuffer()));
    const listing = execFileSync('tar', ['-tvzf', join(dir, 'a.tar.gz')]).toString();
    assert.match(listing, /-rwxr-xr-x .* train\.py/);
    execFileSync('tar', ['-xzf', join(dir, 'a.tar.gz'), '-C', dir]);
    assert.equal(readFileSync(join(dir, 'train.py'), 'utf8'), 'print("hi")\n');
    assert.deepEqual(readFileSync(join(dir, longDir, 'model.pt')), Buffer.alloc(1500, 7));
    assert.equal(readFileSync(join(dir, 'empty.txt')).length, 0);
  });
  it('rejects paths that climb out', async () => {
    await assert.rejects(tarGz([{ path: 'a/../../x', file: new File(['x'], 'x') }]), /bad path/);
  });
  it('writes a valid ustar checksum', () => {
    const hdr = tarHeader('x.txt', 5, 0, 0o644);
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += i >= 148 && i < 156 ? 32 : hdr[i];
    assert.equal(parseInt(new TextDecoder().decode(hdr.slice(148, 154)), 8), sum);
  });
  it('knows archive names', () => {
    assert.ok(isArchiveName('code.TGZ') && isArchiveName('a.tar.gz') && isArchiveName('b.zip') && isArchiveName('c.tar'));
    assert.ok(!isArchiveName('model.pt') && !isArchiveName('train.py'));
  });
});
