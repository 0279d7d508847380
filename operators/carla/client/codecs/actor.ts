/**
 * Actor structs (`rpc/ActorAttribute.h`, `ActorDefinition.h`, `ActorDescription.h`, `Actor.h`).
 * A blueprint is an ActorDefinition; what we send to spawn is an ActorDescription built from it.
 */
import type { Wire } from '../msgpack-encode.ts'
import { decodeBoundingBox, encodeBoundingBox, type BoundingBox } from './geom.ts'
import { arr, bin, bool, num, str } from './read.ts'

/** `rpc/ActorAttributeType.h`, a const object plus a same-named type. */
export const ActorAttributeType = { Bool: 1, Int: 2, Float: 3, String: 4, RGBColor: 5 } as const
export type ActorAttributeType = (typeof ActorAttributeType)[keyof typeof ActorAttributeType]

export interface ActorAttribute {
  id: string
  type: number
  value: string
  recommendedValues: string[]
  isModifiable: boolean
  restrictToRecommended: boolean
}
export interface ActorAttributeValue {
  id: string
  type: number
  value: string
}
export interface ActorDefinition {
  /** 1-based; the server rejects a description whose uid is 0 or out of range. */
  uid: number
  id: string
  tags: string
  attributes: ActorAttribute[]
}
export interface ActorDescription {
  uid: number
  id: string
  attributes: ActorAttributeValue[]
}
export interface Actor {
  id: number
  parentId: number
  description: ActorDescription
  boundingBox: BoundingBox
  semanticTags: Uint8Array
  /** Empty for non-sensors, 24 bytes for sensors. */
  streamToken: Uint8Array
}

export const AttachmentType = { Rigid: 0, SpringArm: 1, SpringArmGhost: 2 } as const
export type AttachmentType = (typeof AttachmentType)[keyof typeof AttachmentType]

export const encodeAttributeValue = (a: ActorAttributeValue): Wire => [a.id, a.type, a.value]
export const encodeActorDescription = (d: ActorDescription): Wire => [d.uid, d.id, d.attributes.map(encodeAttributeValue)]

export function encodeActorAttribute(a: ActorAttribute): Wire {
  return [a.id, a.type, a.value, a.recommendedValues, a.isModifiable, a.restrictToRecommended]
}
export function encodeActorDefinition(d: ActorDefinition): Wire {
  return [d.uid, d.id, d.tags, d.attributes.map(encodeActorAttribute)]
}

export function decodeActorAttribute(raw: unknown, what = 'ActorAttribute'): ActorAttribute {
  const a = arr(raw, what, 6)
  return {
    id: str(a[0], `${what}.id`),
    type: num(a[1], `${what}.type`),
    value: str(a[2], `${what}.value`),
    recommendedValues: arr(a[3], `${what}.recommended_values`).map((v, i) => str(v, `${what}.recommended_values[${i}]`)),
    isModifiable: bool(a[4], `${what}.is_modifiable`),
    restrictToRecommended: bool(a[5], `${what}.restrict_to_recommended`),
  }
}

export function decodeActorDefinition(raw: unknown, what = 'ActorDefinition'): ActorDefinition {
  const a = arr(raw, what, 4)
  return {
    uid: num(a[0], `${what}.uid`),
    id: str(a[1], `${what}.id`),
    tags: str(a[2], `${what}.tags`),
    attributes: arr(a[3], `${what}.attributes`).map((x, i) => decodeActorAttribute(x, `${what}.attributes[${i}]`)),
  }
}

export function decodeActorDescription(raw: unknown, what = 'ActorDescription'): ActorDescription {
  const a = arr(raw, what, 3)
  return {
    uid: num(a[0], `${what}.uid`),
    id: str(a[1], `${what}.id`),
    attributes: arr(a[2], `${what}.attributes`).map((x, i) => {
      const v = arr(x, `${what}.attributes[${i}]`, 3)
      return { id: str(v[0], 'attribute id'), type: num(v[1], 'attribute type'), value: str(v[2], 'attribute value') }
    }),
  }
}

export function decodeActor(raw: unknown, what = 'Actor'): Actor {
  const a = arr(raw, what, 6)
  return {
    id: num(a[0], `${what}.id`),
    parentId: num(a[1], `${what}.parent_id`),
    description: decodeActorDescription(a[2], `${what}.description`),
    boundingBox: decodeBoundingBox(a[3], `${what}.bounding_box`),
    semanticTags: bin(a[4], `${what}.semantic_tags`),
    streamToken: bin(a[5], `${what}.stream_token`),
  }
}

/** The inverse of decodeActor; the Traffic Manager's register_vehicle takes whole Actor structs. */
export function encodeActor(a: Actor): Wire {
  return [a.id, a.parentId, encodeActorDescription(a.description), encodeBoundingBox(a.boundingBox), a.semanticTags, a.streamToken]
}

/**
 * Builds a spawnable description from a blueprint: every attribute at its default (as Python does), with
 * `overrides` applied. Unknown override keys are an error, so a typo in a scenario does not silently vanish.
 */
export function describeBlueprint(def: ActorDefinition, overrides: Record<string, string | number | boolean> = {}): ActorDescription {
  const known = new Set(def.attributes.map((a) => a.id))
  for (const key of Object.keys(overrides)) {
    if (!known.has(key)) throw new Error(`blueprint ${def.id} has no attribute '${key}' (has: ${[...known].join(', ')})`)
  }
  return {
    uid: def.uid,
    id: def.id,
    attributes: def.attributes.map((a) => ({
      id: a.id,
      type: a.type,
      value: a.id in overrides ? String(overrides[a.id]) : a.value,
    })),
  }
}
