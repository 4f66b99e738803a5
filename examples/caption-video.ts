// Caption a video file with a captioning model folder: a Hugging Face GIT or BLIP folder, or
// one written by `tessera train-captioner`. Frames are sampled evenly over the clip by ffmpeg.
// Usage: tsx caption-video.ts <model-dir> <video> [beams]
import { initBackend } from '@tessera/core';
import { loadCaptioner } from '@tessera/models';
import { captionVideo } from '@tessera/video-captioning';

const [modelDir, video, beams = '1'] = process.argv.slice(2);
if (!modelDir || !video) {
  console.error('usage: caption-video.ts <model-dir> <video> [beams]');
  process.exit(2);
}

await initBackend();
const captioner = await loadCaptioner(modelDir); // model, its tokenizer and frame processor
console.error(`${captioner.model.numFrames} frame(s) per clip, languages: ${captioner.text.langs.join(', ')}`);

// Greedy with beams = 1, beam search otherwise; a bad or unreadable video is a TesseraError
// (code E_VIDEO_*) that says what is wrong with the file.
const result = await captionVideo(captioner, video, { beams: Number(beams), maxNewTokens: 12 });
console.log(JSON.stringify({ video, caption: result.caption, tokens: result.tokens }));
captioner.model.dispose();
