import { patch } from "@web/core/utils/patch";
import { MfgIntegrationDashboard } from "@mfg_integration_monitoring/dashboard/dashboard";

/** Open differences per system on the integration dashboard. */
patch(MfgIntegrationDashboard.prototype, {
    async openDifferences(row) {
        const action = await this.orm.call("mfg.integration.system", "action_view_mfg_differences", [[row.system_id]]);
        await this.actionService.doAction(action);
    },
});
