/**
 * File hashing for DVC 3: the plain md5 of the raw bytes, no CRLF normalisation (docs/dvc-format.md §2), computed on
 * the SDK's worker threads so a tree's files are hashed on every core.
 */
import { digestFile } from '../../runtime/operator.ts'

/** Returns a file's lowercase hex md5; injectable so callers (and tests) can count or replace hashing. */
export type FileHasher = (file: string) => Promise<string>

export const md5File: FileHasher = async (file) => (await digestFile(file, 'md5')).digest
