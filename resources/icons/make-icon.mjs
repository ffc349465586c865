// Writes the app icon (512x512.png) with node alone: a dark tile, a ring and
// a grid of page squares (a scope over memory pages). `node resources/icons/make-icon.mjs`
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import path from 'node:path';

const N = 512;
const px = Buffer.alloc(N * (N * 4 + 1));
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
for (let y = 0; y < N; y++) {
  px[y * (N * 4 + 1)] = 0;
  for (let x = 0; x < N; x++) {
    const o = y * (N * 4 + 1) + 1 + x * 4;
    const dx = x - N / 2 + 0.5;
    const dy = y - N / 2 + 0.5;
    const r = Math.hypot(dx, dy);
    const corner = Math.max(Math.abs(dx), Math.abs(dy)) > N / 2 - 8;
    let [R, G, B, A] = corner ? [0, 0, 0, 0] : [17, 20, 24, 255];
    const cell = 36;
    const gx = Math.floor((x - 148) / cell);
    const gy = Math.floor((y - 148) / cell);
    const inGrid =
      x >= 148 &&
      y >= 148 &&
      gx < 6 &&
      gy < 6 &&
      (x - 148) % cell < cell - 6 &&
      (y - 148) % cell < cell - 6;
    if (!corner && inGrid) [R, G, B] = (gx * 3 + gy * 5) % 7 === 0 ? [240, 120, 60] : [48, 70, 92];
    if (!corner && r > 200 && r < 224) [R, G, B] = [80, 190, 230];
    px.set([R, G, B, A], o);
  }
}
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(N, 0);
ihdr.writeUInt32BE(N, 4);
ihdr.set([8, 6, 0, 0, 0], 8);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(px, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(path.join(import.meta.dirname, '512x512.png'), png);
