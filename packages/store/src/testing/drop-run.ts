// Run detached by global-setup's teardown: drop one finished test run's databases.
import { dropPostgresDatabases } from "../engine/scratch";

const [adminUrl, prefix] = process.argv.slice(2);
if (adminUrl !== undefined && prefix !== undefined) await dropPostgresDatabases(adminUrl, prefix).catch(() => {});
