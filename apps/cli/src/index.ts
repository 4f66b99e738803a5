/**
 * @tessera/cli: the `tessera` command. The recipes live in the apps it mounts
 * (@tessera/retrieval, @tessera/video-captioning); `createProgram()` is the command tree, for
 * tests and for embedding.
 */
export { createProgram } from './program.js';
