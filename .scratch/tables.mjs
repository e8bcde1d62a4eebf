import { specMarkdown, TRAINER_SPECS } from '/work/main/dist/src/learning/online-options.js';
import { MANAGER_SPECS } from '/work/main/dist/src/model-manager/options.js';
console.log(specMarkdown(MANAGER_SPECS)); console.log(); console.log(specMarkdown(TRAINER_SPECS));
