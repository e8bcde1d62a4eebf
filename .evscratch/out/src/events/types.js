export const EVENT_KINDS = ['impression', 'click', 'conversion', 'dismiss'];
