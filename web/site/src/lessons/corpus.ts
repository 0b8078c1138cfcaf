// The text a learn page trains a small model on when no shipped model of its architecture exists (a public-domain
// paragraph, Moby Dick ch. 1, repeated to fill training batches).
export const lessonCorpus = (
  'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and nothing ' +
  'particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. ' +
  'It is a way I have of driving off the spleen and regulating the circulation. '
).repeat(12);
