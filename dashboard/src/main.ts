import { createApp } from 'vue';
import App from './App.vue';
import { takeTokenFromFragment, watchTokenLinks } from './auth-token';
import { signIn, store } from './store';
import './style.css';

const fromLink = takeTokenFromFragment(window.location, window.history);
if (fromLink) signIn(fromLink);
else if (store.token) signIn(store.token);
// A link opened in this tab later (on the sign-in page or not) signs in with its token.
watchTokenLinks(window, signIn);

createApp(App).mount('#app');
