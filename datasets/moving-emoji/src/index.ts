// @tessera/dataset-moving-emoji: captioned video clips of emoji in motion, encoded by ffmpeg.
export {
  buildMovingEmojiDataset,
  type ClipObject,
  type ClipSpec,
  clipCaptions,
  encodeMp4,
  MOTIONS,
  type Motion,
  type MovingEmojiOptions,
  type MovingEmojiResult,
  movingEmojiOptionsSchema,
  objectState,
  planMovingEmojiClips,
  renderClip,
  videoConcepts,
} from './movingEmoji.js';
export { decodePng, type RgbaImage } from './png.js';
