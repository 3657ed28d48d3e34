import { SessionEventEntity } from './session-event.entity.js';
import { SessionEntity } from './session.entity.js';

/** The sessions feature's tables, registered with TypeOrmModule.forFeature. */
export const SESSION_ENTITIES = [SessionEntity, SessionEventEntity];
