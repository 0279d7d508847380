/** s3Upload/s3Download as DAG tasks: refs as inputs, the operator name, and the adapter from the task context. */
import { describe, expect, it } from 'vitest'
import { defineDag, type TaskContext } from '../../../runtime/index.ts'
import { s3Download, s3Upload, transferEnv } from '../../../operators/s3/index.ts'

describe('s3 operator factories', () => {
  it('wire an upload after the task that produced the folder, and a download after the upload', () => {
    const dag = defineDag({ id: 's3_usage' }, (d) => {
      const shard = d.task('shard', () => ({ dir: 'datasets/carla/x', url: 's3://datasets/carla/x/' }))
      const up = d.task('upload', s3Upload({ from: shard.out.dir, to: shard.out.url, options: { forcePathStyle: true } }))
      d.task('fetch', s3Download({ from: up.out.url, to: 'datasets/fetched' }))
    })
    const upload = dag.tasks.get('upload')!
    expect(upload.upstream).toEqual(['shard'])
    expect(upload.operator).toBe('s3.upload')
    expect(upload.settings).toMatchObject({ retries: 3, retryBackoff: 'exponential' })
    expect(dag.tasks.get('fetch')!.upstream).toEqual(['upload'])
    expect(dag.tasks.get('fetch')!.operator).toBe('s3.download')
  })

  it('passes signal, log and progress through, and heartbeat details when the context has them', () => {
    const beats: unknown[] = []
    const progress: unknown[] = []
    const signal = new AbortController().signal
    const base = { signal, log: () => {}, progress: (...a: unknown[]) => void progress.push(a) } as unknown as TaskContext
    const plain = transferEnv(base)
    expect(plain.signal).toBe(signal)
    expect(plain.heartbeat).toBeUndefined()
    plain.progress!(1, 2, 'bytes')
    expect(progress).toEqual([[1, 2, 'bytes']])
    const details = { s3Upload: { url: 's3://b/p/', multipart: {} } }
    const resumable = transferEnv({ ...base, heartbeat: (d: unknown) => void beats.push(d), previousDetails: details } as unknown as TaskContext)
    void resumable.heartbeat!(details)
    expect(beats).toEqual([details])
    expect(resumable.previousDetails).toBe(details)
  })
})
