/**
 * Every test file starts with ActiveCampaign's request pacing off: the tests make thousands of API requests to
 * their simulator. The tests of the pacing itself turn it on (lifecycle.test.ts).
 */
import { accountPacing } from '../../nodes/ActiveCampaignTrigger/lifecycle/pacing';

accountPacing.intervalMs = 0;
