import { ensureTemplate } from './databases.js';

export default async function setup() {
  await ensureTemplate();
}
