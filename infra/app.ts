import { App } from 'aws-cdk-lib';
import { defineApp } from './define-app';

// Context (feature flags, emailFrom, appLoginUrl…) comes from cdk.json and `-c` via the CLI.
const app = new App();
defineApp(app);
app.synth();
