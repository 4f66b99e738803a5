// @tessera/dataset-emoji: the emoji text-image dataset built offline from npm packages.
export {
  buildEmojiDataset,
  EMOJI_SPLITS,
  type EmojiConcept,
  type EmojiConceptGroup,
  type EmojiDatasetOptions,
  type EmojiDatasetResult,
  type EmojiPackage,
  type EmojiSplit,
  emojiCaptions,
  emojiDatasetOptionsSchema,
  emojiImagePath,
  loadEmojiConcepts,
  NOTO_LICENSE_FILE,
  normalizeHex,
} from './emoji.js';
