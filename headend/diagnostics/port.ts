/**
 * What the HTTP routes of the technician's work need (headend/http/routes/diagnostics.ts, alarms.ts): the
 * diagnostics service, the alarm service and its sun-outage calendar, housekeeping. Built by headend/main.ts
 * and handed to the API context as one port (STYLE.md guideline 5), so a test can build the app without it
 * and those routes answer 503 NOT_AVAILABLE.
 */
import type { AlarmService } from '../alarms/service.js';
import type { SunOutageCalendar } from '../alarms/sun-calendar.js';
import type { Housekeeping } from '../housekeeping.js';
import type { Diagnostics } from './service.js';

export interface TechnicianPort {
  diagnostics: Diagnostics;
  alarms: AlarmService;
  calendar: SunOutageCalendar;
  housekeeping?: Housekeeping;
}
