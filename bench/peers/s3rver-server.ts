/**
 * s3rver in a process of its own for the s3 benchmark, as a real server would be: every client then competes with
 * it for the same two cores, but not for its event loop. Prints `{"port":N}` once listening; stops on SIGTERM.
 */
import { startS3rver } from '../../tests/helpers/s3rver.ts'

const [dir, bucket = 'bench'] = process.argv.slice(2)
if (!dir) throw new Error('usage: s3rver-server.ts DIR [BUCKET]')
const server = await startS3rver({ dir, bucket })
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`)
process.on('SIGTERM', () => void server.kill().then(() => process.exit(0)))
