// Entry of `npm run lab -- <command> [options]` (run by vite-node so that the WGSL `?raw` imports resolve).
import { main } from './commands';

// vite-node passes the arguments after the script; npm's `--` separator may still be among them.
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
main(args).then((code) => process.exit(code));
