import { BERT_NAMES, bertTextFromHf, bertTextToHf } from './bert.js';
import { clip, clipVisionFromHf, parseFromHf, visionToHf } from './clip.js';
import { exportError, HfConfigReader, type PretrainedType } from './pretrainedType.js';

const TEXT = 'text_model.';

/**
 * Hugging Face `chinese_clip` (ChineseCLIPModel): a BERT text tower (post-LN, token types,
 * pooled at [CLS], no pooler) and CLIP's vision tower (pre_layrnorm, class token, bias-free
 * patch conv), each projected without bias, and `logit_scale`. Vision tensors are named as in
 * CLIP, so they go through CLIP's table; text tensors through BERT's under `text_model.`.
 */
export const chineseClip: PretrainedType = {
  modelTypes: ['chinese_clip'],

  fromHfConfig(hf, file) {
    const root = new HfConfigReader(hf, file);
    return parseFromHf(
      {
        type: 'clip',
        embedDim: root.int('projection_dim', 512),
        vision: clipVisionFromHf(root.section('vision_config')),
        text: bertTextFromHf(root.section('text_config')),
        initLogitScale: root.number('logit_scale_init_value', 2.6592),
      },
      file,
    );
  },

  toHfName: (name) => (name.startsWith(TEXT) ? `${TEXT}${BERT_NAMES.toHfName(name.slice(TEXT.length))}` : clip.toHfName(name)),
  fromHfName: (hfName) =>
    hfName.startsWith(TEXT) ? `${TEXT}${BERT_NAMES.fromHfName(hfName.slice(TEXT.length))}` : clip.fromHfName(hfName),
  // Buffers, and a BERT pooler some converted checkpoints carry (transformers drops it: ChineseCLIPModel has none).
  ignoreHf: [/\.position_ids$/, /\.token_type_ids$/, /^text_model\.pooler\./],
  hfShape: (hfName, shape) => (clip.hfShape ? clip.hfShape(hfName, shape) : [...shape]),

  exportsConfig(config) {
    const extra = config as unknown as { scoring?: string };
    return config.type === 'clip' && config.text.norm === 'post' && extra.scoring !== 'sigmoid';
  },

  toHfConfig(config) {
    if (config.type !== 'clip') throw exportError('type', config.type, 'chinese_clip', 'Only dual encoders export as Chinese-CLIP.');
    const hint = 'Chinese-CLIP projects each tower with a bias-free linear layer.';
    if (config.visionProjection !== 'linear') throw exportError('visionProjection', config.visionProjection, 'chinese_clip', hint);
    if (config.textProjection !== 'linear') throw exportError('textProjection', config.textProjection, 'chinese_clip', hint);
    return {
      architectures: ['ChineseCLIPModel'],
      model_type: 'chinese_clip',
      projection_dim: config.embedDim,
      logit_scale_init_value: config.initLogitScale,
      vision_config: {
        ...visionToHf(config.vision, 'chinese_clip'),
        model_type: 'chinese_clip_vision_model',
        projection_dim: config.embedDim,
      },
      text_config: { ...bertTextToHf(config.text, 'chinese_clip'), model_type: 'chinese_clip_text_model' },
    };
  },
};
