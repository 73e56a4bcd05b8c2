/**
 * The protocol package: the executable contract both the station agent and the headend import
 * (DESIGN.md §2). Pure code only — no I/O, no timers, no globals. The RX8200 codec is namespaced
 * (`rx8200.*`) because its names (frames, replies) are specific to one receiver family.
 */
export * from './acl.js';
export * from './limits.js';
export * from './link-budget.js';
export * from './messages/index.js';
export * from './planner/index.js';
export * from './registry.js';
export * as rx8200 from './rx8200/index.js';
export * from './sun-outage.js';
export * from './timing.js';
export * from './topics.js';
