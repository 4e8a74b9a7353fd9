/** Contract: GreenLake tags and tagged resources, as HPE's Postman collection and API reference give them. */
import t from 'tap';
import { contractSession, runFamily } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'glp-tags');
