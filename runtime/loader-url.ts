/** The loader a child process that imports DAG files starts with (`node --import LOADER_URL`): see loader.mjs. */
export const LOADER_URL = new URL('./loader.mjs', import.meta.url).href
