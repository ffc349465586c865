// Renderer entry: connect to the core (preload bridge or WebSocket), wire the
// stores to its events, mount the app.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { startCore } from './transport';
import { bootstrapStores } from './stores/bootstrap';
import './styles.css';

startCore();
const pinia = createPinia();
bootstrapStores(pinia);
createApp(App).use(pinia).mount('#app');
