// Produces web/dist/ by copying: the UI sources (plain ES modules, no bundler) and the vendored uPlot files.
// Run by `npm install` (postinstall) and by scripts/build.sh; idempotent.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const uplot = join(here, 'node_modules', 'uplot', 'dist');

if (!existsSync(join(uplot, 'uPlot.esm.js'))) {
  console.error('web/build.mjs: uPlot is missing; run `npm install` in web/ first');
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'vendor'), { recursive: true });
cpSync(join(here, 'src'), dist, { recursive: true });
cpSync(join(uplot, 'uPlot.esm.js'), join(dist, 'vendor', 'uPlot.esm.js'));
cpSync(join(uplot, 'uPlot.min.css'), join(dist, 'vendor', 'uPlot.min.css'));
console.log(`web/build.mjs: wrote ${dist}`);
