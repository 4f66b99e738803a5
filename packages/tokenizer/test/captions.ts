import { SeededRandom } from '@tessera/base';

const EN_SUBJECTS = [
  'a dog face',
  'a smiling cat',
  'the red heart',
  'a rocket',
  'two pandas',
  'an old tree',
  'the blue whale',
  'a yellow star',
];
const EN_ACTIONS = ['moves up', 'moves left', 'spins slowly', 'jumps twice', 'waves hello', 'falls down', "doesn't move", 'glows at night'];
const ZH_SUBJECTS = ['狗脸', '微笑的猫', '红心', '火箭', '两只熊猫', '一棵老树', '蓝鲸', '黄色的星星'];
const ZH_ACTIONS = ['向上移动', '向左移动', '慢慢旋转', '跳了两次', '挥手问好', '掉下来', '一动不动', '在夜里发光'];

/** Deterministic mixed English/Chinese captions (with some emoji) for trainer tests. */
export function mixedCaptions(n: number, seed = 1): string[] {
  const rng = new SeededRandom(seed);
  const pick = (a: string[]) => a[rng.int(a.length)];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const en = `${pick(EN_SUBJECTS)} ${pick(EN_ACTIONS)}`;
    const zh = `${pick(ZH_SUBJECTS)}${pick(ZH_ACTIONS)}`;
    out.push(i % 3 === 0 ? zh : i % 3 === 1 ? en : `${en}, ${zh} 🐶${i % 10}`);
  }
  return out;
}
