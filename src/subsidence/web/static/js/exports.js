import { exportLinks } from './common.js';
exportLinks();
