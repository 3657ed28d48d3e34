import { createApp } from 'vue';
import App from './App.vue';
import { takeTokenFromFragment } from './auth-token';
import { signIn, store } from './store';
import './style.css';

const fromLink = takeTokenFromFragment(window.location, window.history);
if (fromLink) signIn(fromLink);
else if (store.token) signIn(store.token);

createApp(App).mount('#app');
